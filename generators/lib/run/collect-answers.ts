/**
 * Gathers the answers of a run: flags, the --answers file and the stored .yo-rc.json are
 * validated together (all problems reported at once, before any prompt); then, when interactive,
 * the missing ones are asked; the rest take their defaults. Shared by `yo secure-stack` and the bin.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Field, FieldKey } from '../answers/field.js';
import { FIELD_LIST } from '../answers/fields.js';
import { valueAt } from '../answers/nesting.js';
import {
  completeWithDefaults,
  flattenDocument,
  serialiseAnswers,
  validateSupplied,
  type RawSource,
  type SuppliedAnswers,
} from '../answers/resolve.js';
import type { Answers } from '../answers/types.js';
import { ExitCode, InvalidAnswersError, UserError, type AnswerProblem } from '../errors.js';
import { PACKAGE_NAME } from '../package-info.js';
import { readAnswersFile } from '../answers/answers-file.js';
import { STORED_CONFIG_FILE } from '../contract.js';
import type { RunLog } from './run-log.js';

/** One prompt, in the shape inquirer (through yeoman's adapter) takes. */
export interface PromptQuestion {
  type: 'input' | 'confirm';
  name: string;
  message: string;
  default: string | boolean;
  validate: (input: unknown) => true | string;
}
export type Ask = (question: PromptQuestion) => Promise<unknown>;

export interface AnswerRequest {
  root: string;
  /** Flags by name (`http-port`, `answers`, ...), as parsed from the command line. */
  options: Record<string, unknown>;
  /** Prompts for missing answers; absent in a non-interactive run. */
  ask?: Ask;
  log: RunLog;
}

/** Non-interactive whenever an answers file is given, stdin is no terminal, or CI is set. */
export function isInteractive(options: Record<string, unknown>): boolean {
  if (options['interactive'] === true) return true;
  return !options['answers'] && process.stdin.isTTY === true && !process.env['CI'];
}

export function flagSource(options: Record<string, unknown>): RawSource {
  const values = new Map<FieldKey, unknown>();
  for (const field of FIELD_LIST) {
    const value = options[field.flag];
    if (value !== undefined) values.set(field.key as FieldKey, value);
  }
  return { name: 'the command line', origin: 'flag', values };
}

export async function collectAnswers({ root, options, ask, log }: AnswerRequest): Promise<Answers> {
  const problems: AnswerProblem[] = [];
  const sources: RawSource[] = [flagSource(options)];
  const answersPath = options['answers'];
  if (typeof answersPath === 'string') {
    const document = await readAnswersFile(resolve(root, answersPath));
    sources.push(flattenDocument(document, `--answers ${answersPath}`, problems));
  }
  const stored = readStoredAnswers(root);
  if (stored !== undefined) sources.push(flattenDocument(stored, STORED_CONFIG_FILE, problems));
  let supplied = validateSupplied(sources, problems);
  const destinationName = basename(root);
  if (ask) supplied = await askMissing(supplied, ask, destinationName);
  const { answers, defaulted } = completeWithDefaults(supplied, destinationName);
  if (defaulted.length > 0 && !ask) {
    const serialised = serialiseAnswers(answers);
    log.info(
      `Defaults used for: ${defaulted.map((key) => `${key}=${JSON.stringify(valueAt(serialised, key))}`).join(', ')}`,
    );
  }
  return answers;
}

/** Our section of .yo-rc.json, or undefined when there is none. */
function readStoredAnswers(root: string): unknown {
  let text: string;
  try {
    text = readFileSync(resolve(root, STORED_CONFIG_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return (JSON.parse(text) as Record<string, unknown>)[PACKAGE_NAME];
  } catch (error) {
    throw new UserError(
      `${STORED_CONFIG_FILE} is not valid JSON (${(error as Error).message}); fix or remove it.`,
      ExitCode.invalidAnswers,
    );
  }
}

async function askMissing(supplied: SuppliedAnswers, ask: Ask, destinationName: string): Promise<SuppliedAnswers> {
  const asked: Record<string, unknown> = {};
  for (const field of FIELD_LIST.filter((f) => !(f.key in supplied))) {
    const soFar = { ...supplied, ...asked } as SuppliedAnswers;
    if (field.askedWhen && !field.askedWhen(soFar)) continue;
    const proposal = field.defaultValue({ destinationName, resolved: soFar });
    const answer = await ask({
      type: field.prompt,
      name: field.flag,
      message: field.description,
      default: promptText(field, proposal),
      validate: (input) => {
        const parsed = field.parse(input, 'flag');
        return parsed.ok ? true : `${field.key} ${parsed.rule}`;
      },
    });
    const parsed = field.parse(answer, 'flag');
    if (!parsed.ok) throw new InvalidAnswersError([{ field: field.key, value: answer, rule: parsed.rule }]);
    asked[field.key] = parsed.value;
  }
  return { ...supplied, ...(asked as SuppliedAnswers) };
}

function promptText(field: Field<unknown>, value: unknown): string | boolean {
  const serialised = field.serialise(value);
  if (typeof serialised === 'boolean') return serialised;
  if (Array.isArray(serialised)) return serialised.map((item) => (item as { path: string }).path).join(',');
  return String(serialised);
}
