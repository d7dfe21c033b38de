/**
 * The Yeoman face of the generator (`yo secure-stack`): declares the flags, lets yeoman's adapter
 * ask the questions, and hands everything else to generators/lib/run, which the `secure-stack`
 * bin calls the same way.
 *
 * It does not write through Yeoman's `this.fs` (mem-fs) nor record answers with `this.config`:
 * the bin must write the same files without loading yeoman-environment; mem-fs's conflict diffs
 * would print secrets; and a run's files (secrets, merged edits, .yo-rc.json, the pristine copies)
 * go to disk together in one journaled transaction (generators/lib/write), or not at all.
 */
import Generator from 'yeoman-generator';
import type { Answers } from '../lib/answers/types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../lib/package-info.js';
import { collectAnswers, isInteractive, type PromptQuestion } from '../lib/run/collect-answers.js';
import { runMode, writeStack } from '../lib/run/write-stack.js';
import { recoverInterruptedRun } from '../lib/write/transaction.js';
import { optionDeclarations, unknownFlags, unknownFlagsError } from './command.js';
import { STACK_FILES } from './files.js';

type GeneratorOptions = Generator['options'] & Record<string, unknown>;

export default class SecureStackGenerator extends Generator<Record<string, unknown>, GeneratorOptions> {
  #answers?: Answers;

  // Optional as in Yeoman's own signature, so yeoman-test's typed run() accepts the class.
  constructor(args?: string[], options?: GeneratorOptions) {
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

  initializing(): void {
    const unknown = unknownFlags(this._args, new Set(Object.keys(this._options)));
    if (unknown.length > 0) throw unknownFlagsError(unknown);
    recoverInterruptedRun(this.destinationRoot());
  }

  async prompting(): Promise<void> {
    const ask = isInteractive(this.options)
      ? async (question: PromptQuestion) =>
          (await this.prompt<Record<string, unknown>>([question as never]))[question.name]
      : undefined;
    this.#answers = await collectAnswers({ root: this.destinationRoot(), options: this.options, ask, log: this.log });
  }

  writing(): void {
    writeStack(this.destinationRoot(), this.#answers!, STACK_FILES, runMode(this.options), this.log);
  }
}
