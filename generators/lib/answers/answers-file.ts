/**
 * Reads an answers file (JSON or YAML). A .json file that is plain JSON with each key once is read
 * with JSON.parse; anything else is parsed as YAML 1.2, of which JSON is a subset, so both get the
 * same safe treatment: core schema only (no custom tags such as !!python/object), duplicate keys
 * rejected, alias expansion bounded, errors with line and column.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, isAlias, isPair, isScalar, parseDocument, visit, type Document, type YAMLError } from 'yaml';
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
    throw new UserError(
      `Cannot read answers file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      ExitCode.usage,
    );
  }
  if (size > MAX_ANSWERS_FILE_BYTES) {
    throw new UserError(
      `Answers file ${path} is ${size} bytes; the limit is ${MAX_ANSWERS_FILE_BYTES}.`,
      ExitCode.invalidAnswers,
    );
  }
  const text = readFileSync(path, 'utf8');
  return (path.toLowerCase().endsWith('.json') ? parseStrictJson(text) : undefined) ?? parseAnswersText(text, path);
}

const NOT_STRICT_JSON = Symbol('not strict JSON');

/**
 * A .json file read with JSON.parse, several times faster than the YAML parser on a long route
 * list, when it is plain JSON with each key once; else undefined (as for `null`), and the YAML path
 * reads it and reports what is wrong with line and column. JSON.parse keeps the last of two equal
 * keys silently, so keys are checked first; a document JSON.parse accepts reads the same as YAML
 * 1.2 (of which JSON is a subset).
 */
function parseStrictJson(text: string): unknown {
  // NUL, a CR alone (the YAML path reads one inside a value as part of it) and deep nesting (the
  // YAML path refuses it with a position; JSON.parse would hand it on) go the YAML way.
  if (text.includes('\u0000') || /\r(?!\n)/.test(text) || misreadByJsonParse(text)) return undefined;
  const value = ((): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return NOT_STRICT_JSON;
    }
  })();
  return value === NOT_STRICT_JSON || value === null ? undefined : value;
}

/** Deeper than any answers file: the answers nest three levels. */
const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON.parse would read this text other than the YAML path does: an object repeats a key
 * (JSON.parse keeps the last silently), or it nests deeper than MAX_JSON_DEPTH (the YAML path
 * refuses that with a position). Keys are compared decoded ("a" and
 * "\u0061" are one key). Text that is not JSON may answer either way: JSON.parse or the YAML path
 * decides about it.
 */
export function misreadByJsonParse(text: string): boolean {
  const objects: (Set<string> | null)[] = []; // one entry per open brace or bracket; null for arrays
  let expectingKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = objects.at(-1);
      if (expectingKey && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return false;
        }
        if (top.has(key)) return true;
        top.add(key);
        expectingKey = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      expectingKey = true;
      if (objects.length > MAX_JSON_DEPTH) return true;
    } else if (c === '[') {
      objects.push(null);
      if (objects.length > MAX_JSON_DEPTH) return true;
    } else if (c === '}' || c === ']') {
      objects.pop();
    } else if (c === ',') {
      expectingKey = objects.at(-1) instanceof Set;
    }
  }
  return false;
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
    // Otherwise the yaml package resolves the YAML 1.1 tags !!binary, !!set, !!omap, !!pairs and
    // !!timestamp into Buffers, Sets, Maps and Dates, and a Map reads as an empty mapping (its
    // answers silently lost). Unresolved, every tag is rejected below.
    resolveKnownTags: false,
  });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) {
    const position = problem.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    throw new UserError(
      `Answers file ${sourceName} is not valid JSON or YAML${where}: ${describeProblem(document, problem)}`,
      ExitCode.invalidAnswers,
    );
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
        found = {
          offset: offsetOf(node),
          message: `the alias *${node.source} has no anchor &${node.source} before it`,
        };
        return visit.BREAK;
      }
      if (node.anchor) anchors.add(node.anchor);
      return undefined;
    },
  });
  if (found) {
    const { line, col } = lineCounter.linePos(found.offset);
    throw new UserError(
      `Answers file ${sourceName} is not valid JSON or YAML at line ${line}, column ${col}: ${escapeControls(found.message)}`,
      ExitCode.invalidAnswers,
    );
  }
  try {
    // maxAliasCount bounds "billion laughs" expansion of anchors and aliases.
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new UserError(
      `Answers file ${sourceName} cannot be read: ${escapeControls((error as Error).message)}`,
      ExitCode.invalidAnswers,
    );
  }
}

/**
 * The parser's problem said once, with the key it is about and the rule: its own message repeats
 * the position ("... at line 2, column 1:") and quotes source text that may hold control marks.
 */
function describeProblem(document: Document, problem: YAMLError): string {
  const offset = problem.pos[0];
  const parserWords = escapeControls(problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
  if (problem.code === 'DUPLICATE_KEY') {
    const key = keyPathAt(document, offset, 'key');
    return `${key ? `key ${key} appears twice` : parserWords}: each key may appear only once`;
  }
  if (problem.code === 'TAG_RESOLVE_FAILED') {
    const key = keyPathAt(document, offset, 'value');
    const tag = /^Unresolved tag: (.*)$/.exec(parserWords)?.[1]?.replace(/^tag:yaml\.org,2002:/, '!!');
    return `${key ? `the value of ${key}` : 'a value'} has the tag ${tag ?? '(unknown)'}: tags are not allowed, only plain JSON or YAML 1.2 values`;
  }
  return parserWords;
}

/** The dotted key ("memory.nginx", quoted) of the innermost pair whose key starts at `offset`, or which spans it. */
function keyPathAt(document: Document, offset: number, where: 'key' | 'value'): string | undefined {
  let found: string | undefined;
  const rangeOf = (node: unknown) => (node as { range?: [number, number, number] } | null)?.range;
  visit(document, {
    Pair(_, pair, path) {
      const keyRange = rangeOf(pair.key);
      const valueRange = rangeOf(pair.value);
      // A value's tag stands before the value node's own range: the pair spans from its key to its value's end.
      const hit =
        where === 'key'
          ? keyRange?.[0] === offset
          : keyRange !== undefined && keyRange[0] <= offset && offset < (valueRange?.[2] ?? keyRange[2]);
      if (!hit) return undefined;
      const keys = [...path.filter(isPair), pair].map((ancestor) =>
        isScalar(ancestor.key) ? String(ancestor.key.value) : '?',
      );
      found = JSON.stringify(escapeControls(keys.join('.')));
      return where === 'key' ? visit.BREAK : undefined;
    },
  });
  return found;
}
