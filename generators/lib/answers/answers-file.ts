/**
 * Reads an answers file (JSON or YAML). JSON is parsed as YAML 1.2, of which it is a subset, so
 * both get the same safe treatment: core schema only (no custom tags such as !!python/object),
 * duplicate keys rejected, alias expansion bounded, errors with line and column.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ExitCode, UserError } from '../errors.js';

export const MAX_ANSWERS_FILE_BYTES = 1024 * 1024;

export function readAnswersFile(path: string): unknown {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UserError(`Answers file ${path} is not a regular file.`, ExitCode.usage);
    size = stat.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`Cannot read answers file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`, ExitCode.usage);
  }
  if (size > MAX_ANSWERS_FILE_BYTES) {
    throw new UserError(`Answers file ${path} is ${size} bytes; the limit is ${MAX_ANSWERS_FILE_BYTES}.`, ExitCode.invalidAnswers);
  }
  return parseAnswersText(readFileSync(path, 'utf8'), path);
}

export function parseAnswersText(text: string, sourceName: string): unknown {
  if (text.includes('\u0000')) {
    throw new UserError(`Answers file ${sourceName} contains a NUL byte.`, ExitCode.invalidAnswers);
  }
  const document = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    uniqueKeys: true,
    strict: true,
    prettyErrors: true,
  });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) {
    const position = problem.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    const firstLine = problem.message.split('\n')[0];
    throw new UserError(`Answers file ${sourceName} is not valid JSON or YAML${where}: ${firstLine}`, ExitCode.invalidAnswers);
  }
  try {
    // maxAliasCount bounds "billion laughs" expansion of anchors and aliases.
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new UserError(`Answers file ${sourceName} cannot be read: ${(error as Error).message}`, ExitCode.invalidAnswers);
  }
}
