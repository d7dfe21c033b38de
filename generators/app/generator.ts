/**
 * The generator's lifecycle: gather and validate answers (flags, answers file, stored config),
 * ask for what is missing when interactive, then render the stack model and write it with its
 * secrets. Thin on purpose: each step is a call into generators/lib.
 */
import { readFileSync, statSync } from 'node:fs';
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
import { SECRETS_DIRECTORY } from '../lib/stack/secret-names.js';
import { describePlan } from '../lib/upgrade/describe.js';
import { planRun } from '../lib/upgrade/plan.js';
import { STORED_CONFIG_FILE, storedConfigContent } from '../lib/upgrade/stored-config.js';
import { assertNoSymlink, resolveInside } from '../lib/write/safe-paths.js';
import { applyOperations, recoverInterruptedRun } from '../lib/write/transaction.js';
import { flagSource, optionDeclarations, unknownFlags } from './command.js';
import { STACK_FILES } from './files.js';

type GeneratorOptions = Generator['options'] & { answers?: string; interactive?: boolean; check?: boolean; 'dry-run'?: boolean };

export default class SecureStackGenerator extends Generator<Record<string, unknown>, GeneratorOptions> {
  #supplied: SuppliedAnswers = {};
  #answers?: Answers;
  #conflicted: string[] = [];

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
    recoverInterruptedRun(this.destinationRoot());
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
  }

  writing(): void {
    const root = this.destinationRoot();
    const model = buildStackModel(this.#answers!);
    const read = (path: string) => readIfFile(resolveInside(root, path));
    const plan = planRun({ rendered: renderStack(model, STACK_FILES), read, generatorVersion: PACKAGE_VERSION });
    const config = storedConfigContent(read(STORED_CONFIG_FILE), PACKAGE_NAME, serialiseAnswers(this.#answers!));
    const operations = config === read(STORED_CONFIG_FILE) ? plan.operations : [...plan.operations, { op: 'write' as const, path: STORED_CONFIG_FILE, content: config }];

    if (this.options.check) {
      const drifted = [...new Set(operations.map((operation) => operation.path))];
      if (drifted.length > 0) {
        throw new UserError(`Drift: a run would change ${drifted.length} file${drifted.length === 1 ? '' : 's'}:\n${drifted.map((path) => `  ${path}`).join('\n')}`, ExitCode.driftFound);
      }
      this.log.ok('No drift: the repository is what the generator would write.');
      return;
    }
    if (this.options['dry-run']) {
      this.log.info(`Dry run, nothing written:\n${describePlan(plan.actions, operations).join('\n')}`);
      return;
    }
    // Every path is checked before anything is written, secrets included.
    for (const path of [SECRETS_DIRECTORY, ...operations.map((operation) => operation.path)]) assertNoSymlink(root, path);
    // Secrets first: a stack on disk always has its secrets.
    const report = ensureSecrets(root, model.secrets.map((secret) => secret.name));
    applyOperations(root, operations);
    for (const line of describePlan(plan.actions, [])) this.log.info(line);
    if (report.created.length > 0) this.log.info(`Generated secrets (values not shown): ${report.created.join(', ')}`);
    this.#conflicted = plan.conflicted;
  }

  end(): void {
    if (this.options.check || this.options['dry-run']) return;
    if (this.#conflicted.length > 0) {
      throw new UserError(
        `Merge conflicts: your edits and the new templates changed the same lines in:\n${this.#conflicted.map((path) => `  ${path}`).join('\n')}\nResolve the <<<<<<< / >>>>>>> blocks, then re-run.`,
        ExitCode.mergeConflicts,
      );
    }
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

function readIfFile(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}
