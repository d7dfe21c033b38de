/**
 * Reads an answers file (JSON or YAML). A .json file that is plain JSON with each key once is read
 * with JSON.parse; anything else goes to yaml-answers.ts, loaded only then, which reads YAML 1.2
 * (of which JSON is a subset) with the same safe treatment and errors with line and column.
 */
import { readFileSync, statSync } from 'node:fs';
import { ExitCode, UserError } from '../errors.js';

export const MAX_ANSWERS_FILE_BYTES = 1024 * 1024;

export async function readAnswersFile(path: string): Promise<unknown> {
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
  const json = path.toLowerCase().endsWith('.json') ? parseStrictJson(text) : undefined;
  if (json !== undefined) return json;
  const { parseAnswersText } = await import('./yaml-answers.js');
  return parseAnswersText(text, path);
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
