/**
 * The generator's lifecycle: gather and validate answers (flags, answers file, stored config),
 * ask for what is missing when interactive, then render the stack model and write it with its
 * secrets. Thin on purpose: each step is a call into generators/lib.
 */
import { basename } from 'node:path';
import Generator from 'yeoman-generator';
import { readAnswersFile } from '../lib/answers/answers-file.js';
import { FIELD_LIST, type Field, type FieldKey } from '../lib/answers/fields.js';
import { completeWithDefaults, flattenDocument, serialiseAnswers, validateSupplied, type RawSource, type SuppliedAnswers } from '../lib/answers/resolve.js';
import type { Answers } from '../lib/answers/types.js';
import { ExitCode, InvalidAnswersError, UserError, type AnswerProblem } from '../lib/errors.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../lib/package-info.js';
import { renderStack } from '../lib/render.js';
import { ensureSecrets } from '../lib/secrets.js';
import { buildStackModel } from '../lib/stack/model.js';
import { flagSource, optionDeclarations, unknownFlags } from './command.js';
import { STACK_FILES } from './files.js';

type GeneratorOptions = Generator['options'] & { answers?: string; interactive?: boolean };

export default class SecureStackGenerator extends Generator<Record<string, unknown>, GeneratorOptions> {
  #supplied: SuppliedAnswers = {};
  #answers?: Answers;

  constructor(args: string[], options: GeneratorOptions) {
    // customInstallTask: the stack has no package.json, so skip yeoman's package-manager step.
    super(args, options, { customInstallTask: true });
    for (const option of optionDeclarations()) {
      this.option(option.name, { type: option.type === 'boolean' ? Boolean : String, description: option.description });
    }
  }

  /** Keys .yo-rc.json by our package name, however the generator was loaded (yo, bin, tests). */
  override rootGeneratorName(): string {
    return PACKAGE_NAME;
  }

  override rootGeneratorVersion(): string {
    return PACKAGE_VERSION;
  }

  /** Non-interactive whenever an answers file is given, stdin is no terminal, or CI is set. */
  get #interactive(): boolean {
    if (this.options.interactive === true) return true;
    return !this.options.answers && process.stdin.isTTY === true && !process.env['CI'];
  }

  initializing(): void {
    const unknown = unknownFlags(this._args, new Set(Object.keys(this._options)));
    if (unknown.length > 0) {
      throw new UserError(`Unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.map((n) => `--${n}`).join(', ')}. Run with --help for the list.`, ExitCode.usage);
    }
    const problems: AnswerProblem[] = [];
    const sources: RawSource[] = [flagSource(this.options as Record<string, unknown>)];
    const answersPath = this.options.answers;
    if (typeof answersPath === 'string') {
      sources.push(flattenDocument(readAnswersFile(this.destinationPath(answersPath)), `--answers ${answersPath}`, problems));
    }
    const stored = this.config.getAll();
    if (Object.keys(stored).length > 0) sources.push(flattenDocument(stored, '.yo-rc.json', problems));
    this.#supplied = validateSupplied(sources, problems);
  }

  async prompting(): Promise<void> {
    if (!this.#interactive) return;
    const missing = FIELD_LIST.filter((field) => !(field.key in this.#supplied));
    const asked: Record<string, unknown> = {};
    for (const field of missing) {
      const soFar = { ...this.#supplied, ...asked } as SuppliedAnswers;
      if (field.askedWhen && !field.askedWhen(soFar)) continue;
      const proposal = field.defaultValue({ destinationName: this.#destinationName, resolved: soFar });
      const question = {
        type: field.prompt,
        name: field.flag,
        message: field.description,
        default: promptText(field, proposal),
        validate: (input: unknown) => {
          const parsed = field.parse(input, 'flag');
          return parsed.ok ? true : `${field.key} ${parsed.rule}`;
        },
      };
      // One declaration serves both prompt kinds; inquirer's types split them per kind.
      const answer = await this.prompt<Record<string, unknown>>([question as never]);
      const parsed = field.parse(answer[field.flag], 'flag');
      if (!parsed.ok) throw new InvalidAnswersError([{ field: field.key, value: answer[field.flag], rule: parsed.rule }]);
      asked[field.key] = parsed.value;
    }
    this.#supplied = { ...this.#supplied, ...(asked as SuppliedAnswers) };
  }

  configuring(): void {
    const { answers, defaulted } = completeWithDefaults(this.#supplied, this.#destinationName);
    this.#answers = answers;
    if (defaulted.length > 0 && !this.#interactive) {
      const stored = serialiseAnswers(answers);
      this.log.info(`Defaults used for: ${defaulted.map((key) => `${key}=${JSON.stringify(valueAt(stored, key))}`).join(', ')}`);
    }
    this.config.set(serialiseAnswers(answers));
  }

  writing(): void {
    const model = buildStackModel(this.#answers!);
    for (const file of renderStack(model, STACK_FILES)) {
      if (file.owner === 'user' && this.fs.exists(this.destinationPath(file.path))) continue;
      this.fs.write(this.destinationPath(file.path), file.content);
    }
    const report = ensureSecrets(this.destinationRoot(), model.secrets.map((secret) => secret.name));
    if (report.created.length > 0) this.log.info(`Generated secrets (values not shown): ${report.created.join(', ')}`);
    if (report.kept.length > 0) this.log.info(`Kept existing secrets: ${report.kept.join(', ')}`);
  }

  end(): void {
    this.log.ok(`Stack "${this.#answers!.projectName}" written. Start it with: docker compose up -d --build`);
  }

  get #destinationName(): string {
    return basename(this.destinationRoot());
  }
}

function promptText(field: Field<unknown>, value: unknown): string | boolean {
  const serialised = field.serialise(value);
  if (typeof serialised === 'boolean') return serialised;
  if (Array.isArray(serialised)) return serialised.map((item) => (item as { path: string }).path).join(',');
  return String(serialised);
}

function valueAt(stored: Record<string, unknown>, key: FieldKey): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], stored);
}
