/**
 * Reads an answers file (JSON or YAML). JSON is parsed as YAML 1.2, of which it is a subset, so
 * both get the same safe treatment: core schema only (no custom tags such as !!python/object),
 * duplicate keys rejected, alias expansion bounded, errors with line and column.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, isAlias, isScalar, parseDocument, visit } from 'yaml';
import { ExitCode, UserError, escapeControls } from '../errors.js';

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
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    version: '1.2',
    schema: 'core',
    uniqueKeys: true,
    strict: true,
    prettyErrors: true,
    // Without this, the yaml package still resolves the YAML 1.1 tags !!binary, !!set, !!omap,
    // !!pairs and !!timestamp into Buffers, Sets, Maps and Dates: `memory: !!omap [...]` became a
    // Map that read as an empty mapping and was silently ignored. Unresolved, they are rejected below.
    resolveKnownTags: false,
  });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) {
    const position = problem.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    // The parser's message quotes the offending source text, which may hold controls or bidi marks.
    const firstLine = escapeControls(problem.message.split('\n')[0]!);
    throw new UserError(`Answers file ${sourceName} is not valid JSON or YAML${where}: ${firstLine}`, ExitCode.invalidAnswers);
  }
  // Two more problems, found in one pass in document order so that each gets its line and column
  // (the yaml package reports the second one later, without a position, and the first not at all):
  // - a list, a mapping or an alias as a key (`? [a]: b`) cannot be a JS object key: the package
  //   would stringify it and print a Node warning on the user's terminal. No answer has such a key.
  // - an alias whose anchor is not defined before it.
  const anchors = new Set<string>();
  let found: { offset: number; message: string } | undefined;
  const offsetOf = (node: unknown) => (node as { range?: [number, number, number] }).range?.[0] ?? 0;
  visit(document, {
    Pair(_, pair) {
      if (pair.key === null || isScalar(pair.key)) return undefined;
      found = { offset: offsetOf(pair.key), message: 'a key must be a plain value, not a list, a mapping or an alias' };
      return visit.BREAK;
    },
    Node(_, node) {
      if (isAlias(node)) {
        if (anchors.has(node.source)) return undefined;
        found = { offset: offsetOf(node), message: `the alias *${node.source} has no anchor &${node.source} before it` };
        return visit.BREAK;
      }
      if (node.anchor) anchors.add(node.anchor);
      return undefined;
    },
  });
  if (found) {
    const { line, col } = lineCounter.linePos(found.offset);
    throw new UserError(`Answers file ${sourceName} is not valid JSON or YAML at line ${line}, column ${col}: ${escapeControls(found.message)}`, ExitCode.invalidAnswers);
  }
  try {
    // maxAliasCount bounds "billion laughs" expansion of anchors and aliases.
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new UserError(`Answers file ${sourceName} cannot be read: ${escapeControls((error as Error).message)}`, ExitCode.invalidAnswers);
  }
}
