/**
 * The shape of the code: no import cycle (type imports included), and verify states none of the
 * generator's facts itself (ports, paths, file names): it imports them from the contract.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/generate.js';

function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of each file, as absolute .ts paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const specifiers = [
        ...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/gm),
      ].map((match) => match[1]!);
      return [
        file,
        specifiers
          .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
          .filter((path) => known.has(path)),
      ];
    }),
  );
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe("the code's shape", () => {
  it('has no import cycle in the generator, its bin and verify (type imports included)', () => {
    const files = [
      ...sources(join(REPO_ROOT, 'generators')),
      ...sources(join(REPO_ROOT, 'cli')),
      ...sources(join(REPO_ROOT, 'verify')),
    ];
    expect(files.length).toBeGreaterThan(40);
    const graph = importGraph(files);
    // The detector itself: a graph with a cycle is found to have one.
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'a']]);
    expect(cycles(graph).map((cycle) => cycle.map((file) => relative(REPO_ROOT, file)).join(' -> '))).toEqual([]);
  });

  it('keeps the generator from depending on verify, its own module', () => {
    const generator = sources(join(REPO_ROOT, 'generators'));
    const importsVerify = generator.filter((file) =>
      [...importGraph([...generator, ...sources(join(REPO_ROOT, 'verify'))]).get(file)!].some((dependency) =>
        dependency.startsWith(join(REPO_ROOT, 'verify/')),
      ),
    );
    expect(importsVerify.map((file) => relative(REPO_ROOT, file))).toEqual([]);
  });

  it("keeps verify free of the generator's facts: ports, health paths, file and key names come from the contract", () => {
    const files = sources(join(REPO_ROOT, 'verify'));
    const literals = [
      /'\/health\/'/,
      /'\/nginx-health'/,
      /\b80[89]0\b/,
      /\b8443\b/,
      /\b8081\b/,
      /'\.yo-rc\.json'/,
      /'generator-secure-stack'/,
      /['`"]\/run\/secrets/,
    ];
    const found = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({
          line: line.replace(/\/\*.*?\*\/|\/\/.*$|^\s*\/?\*.*$/g, ''),
          at: `${relative(REPO_ROOT, file)}:${index + 1}`,
        }))
        .filter(({ line }) => literals.some((literal) => literal.test(line)))
        .map(({ line, at }) => `${at}: ${line.trim()}`),
    );
    expect(files.length).toBeGreaterThan(5);
    expect(found).toEqual([]);
  });
});
