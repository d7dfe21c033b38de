/**
 * Reads an answers file's text as YAML 1.2, of which JSON is a subset: core schema only (no custom
 * tags such as !!python/object), duplicate keys rejected, alias expansion bounded, errors with line
 * and column. Its own module so that a run without a YAML answers file never loads the parser.
 */
import { LineCounter, isAlias, isPair, isScalar, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { ExitCode, UserError, escapeControls } from '../errors.js';

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
