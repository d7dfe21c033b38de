/**
 * The hostile-input corpus (test/answers/hostile-corpus.yaml) through the real generator: every entry's
 * documented outcome holds. An accepted value is stored normalised in .yo-rc.json and renders a
 * valid stack; a rejected one fails with code 1, a message naming the field and the rule, and a
 * destination (and answers file) left byte for byte as they were. Then the answers file itself:
 * size limit, malformed JSON and YAML, alias bombs, custom tags.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { completeWithDefaults, flattenDocument, validateSupplied } from '../../generators/lib/answers/resolve.js';
import { InvalidAnswersError, UserError } from '../../generators/lib/errors.js';
import { FIELD_KEYS, FLAG, valueAt, type Key } from '../support/answers-oracle.js';
import { failure, generate, REPO_ROOT } from '../support/generate.js';
import { nginxTestMany } from '../support/nginx-batch.js';
import { nginxAvailable } from '../support/nginx.js';
import { checkStack, renderFiles, type Expected, type PythonSources } from '../support/output-checks.js';
import { DEBIAN_PYTHON, hasCommand, prerequisite } from '../support/prerequisites.js';
import { checkPythonBatch } from '../support/python-batch.js';
import { populatedDestination, snapshot } from '../support/snapshot.js';
import { readStored } from '../support/stack-files.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');
const havePython = prerequisite(
  `Debian python3 (${DEBIAN_PYTHON})`,
  () => hasCommand(DEBIAN_PYTHON),
  'apt-get install python3',
);

interface Entry {
  field: string;
  via: 'flag' | 'json' | 'yaml';
  value?: unknown;
  text?: string;
  repeat?: number;
  each?: string;
  count?: number;
  accepted?: unknown;
  rejected?: string;
  why?: string;
}

const CORPUS = parse(readFileSync(join(REPO_ROOT, 'test/answers/hostile-corpus.yaml'), 'utf8')) as Entry[];

function rawValue(entry: Entry): unknown {
  if (entry.each !== undefined) {
    const list = Array.from({ length: entry.count! }, (_, i) => entry.each!.replace('{i}', String(i)));
    return entry.via === 'flag' ? list.join(',') : list;
  }
  return entry.repeat !== undefined ? String(entry.value).repeat(entry.repeat) : entry.value;
}

/** `accepted: same` stands for the raw value itself (as a route list, for routes). */
function acceptedValue(entry: Entry, raw: unknown): unknown {
  if (entry.accepted !== 'same') return entry.accepted;
  if (entry.field !== 'routes') return raw;
  const paths = typeof raw === 'string' ? raw.split(',').filter((p) => p !== '') : (raw as string[]);
  return paths.map((path) => ({ path }));
}

function nested(field: string, value: unknown): Record<string, unknown> {
  const [parent, child] = field.split('.') as [string, string | undefined];
  return child === undefined ? { [parent]: value } : { [parent]: { [child]: value } };
}

/** Options for the run and the files it reads, written next to (not inside) the destination. */
function prepare(entry: Entry, parent: string): Record<string, unknown> {
  const raw = rawValue(entry);
  if (entry.via === 'flag') return { [FLAG[entry.field as Key]]: raw };
  if (entry.via === 'json') {
    const document = entry.field.startsWith('(') ? raw : nested(entry.field, raw);
    writeFileSync(join(parent, 'answers.json'), JSON.stringify(document));
    return { answers: '../answers.json' };
  }
  writeFileSync(join(parent, 'answers.yaml'), entry.text!);
  return { answers: '../answers.yaml' };
}

const shown = (entry: Entry) => {
  const raw = entry.text ?? rawValue(entry);
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 50 ? `${text.slice(0, 47)}...` : text;
};

const accepted: { id: string; nginx: string; swarmNginx?: string; python: PythonSources }[] = [];

describe('the hostile corpus', () => {
  it('covers what the issue lists', () => {
    const everything = CORPUS.map((e) => `${e.text ?? ''} ${JSON.stringify(rawValue(e))}`).join('\n');
    const raw = CORPUS.map(
      (e) => e.text ?? (typeof rawValue(e) === 'string' ? (rawValue(e) as string) : JSON.stringify(rawValue(e))),
    ).join('\n');
    for (const needle of [
      '\n',
      '\r',
      ';',
      '{',
      '}',
      '#',
      "'",
      '"',
      '$',
      '`',
      '${',
      '$$',
      '<%',
      '%>',
      '\u0430',
      '\uff0f',
      '\u202e',
      '\u200f',
      '\u0000',
      'yes',
      'null',
      '~',
      '0x1F',
      '1e3',
      '&',
      '*',
      '!!python/object',
      '__proto__',
    ]) {
      expect(raw.includes(needle), JSON.stringify(needle)).toBe(true);
    }
    expect(CORPUS.some((e) => String(rawValue(e)).length >= 10_000)).toBe(true);
    expect(CORPUS.some((e) => /appears twice: each key may appear only once/.test(e.rejected ?? ''))).toBe(true);
    for (const [field, values] of Object.entries({
      httpPort: [-1, 80.5, 1e300, '-1', '99999999999999999999'],
      'memory.backend': ['1.5g', '512MB'],
      'memory.nginx': ['0m'],
      'memory.postgres': ['99999999g', '1G'],
      routes: ['/../etc', '//x', '/api/', '/API,/api'],
    })) {
      for (const value of values)
        expect(
          CORPUS.some((e) => e.field === field && rawValue(e) === value),
          `${field} ${JSON.stringify(value)}`,
        ).toBe(true);
    }
    expect(CORPUS.some((e) => e.field === 'routes' && e.count === 501)).toBe(true);
    expect(everything).toContain('routes');
    for (const entry of CORPUS) expect('accepted' in entry !== 'rejected' in entry, JSON.stringify(entry)).toBe(true);
  });

  it.each(
    CORPUS.map(
      (entry, index) =>
        [index, entry.field, entry.via, shown(entry), 'accepted' in entry ? 'accepted' : 'rejected', entry] as const,
    ),
  )('#%i %s via %s: %s is %s', async (index, _field, _via, _shown, _outcome, entry) => {
    if ('rejected' in entry) {
      const { parent, directory } = populatedDestination();
      const options = prepare(entry, parent);
      const before = snapshot(parent);
      const error = await failure(generate({ directory, options }));
      expect(error, error.stack).toBeInstanceOf(UserError);
      expect(error.message).toMatch(new RegExp(entry.rejected!));
      expect(error.code).toBe(1);
      if (error instanceof InvalidAnswersError && (FIELD_KEYS as readonly string[]).includes(entry.field))
        expect(error.message).toContain(`\n  - ${entry.field}: `);
      expect(snapshot(parent)).toEqual(before);
      return;
    }
    const parent = mkdtempSync(join(tmpdir(), 'secure-stack-hostile-'));
    const directory = join(parent, 'stack');
    mkdirSync(directory);
    await generate({ directory, options: prepare(entry, parent) });
    const stored = readStored(directory);
    expect(valueAt(stored, entry.field)).toEqual(acceptedValue(entry, rawValue(entry)));
    // The stored answers are what a re-run reads: they resolve to the answers the files were rendered from.
    const { answers } = completeWithDefaults(validateSupplied([flattenDocument(stored, '.yo-rc.json', [])]), 'stack');
    const files = new Map(
      [...renderFiles(answers).keys()].map((path) => [path, readFileSync(join(directory, path), 'utf8')]),
    );
    const python = checkStack(files, answers, stored as unknown as Expected);
    accepted.push({
      id: `#${index}`,
      nginx: files.get('nginx/nginx.conf')!,
      swarmNginx: files.get('nginx/nginx.swarm.conf'),
      python,
    });
  });

  it.runIf(havePython)("every accepted entry's Python compiles and holds its values (one python3 run)", () => {
    expect(accepted.length).toBeGreaterThan(10);
    expect(checkPythonBatch(accepted.map(({ id, python }) => ({ id, sources: python })))).toEqual([]);
  });

  it.runIf(haveNginx)("every accepted entry's nginx.conf passes nginx -t (one namespace)", () => {
    expect(accepted.length).toBeGreaterThan(10);
    expect(
      nginxTestMany(
        accepted.map(({ id, nginx }) => ({ id, config: nginx })),
        ['nginx', 'backend', 'postgres', 'redis'],
      ),
    ).toEqual([]);
    // Swarm renderings load with no service name resolvable (nginx starts before any backend task).
    const swarm = accepted.filter((entry) => entry.swarmNginx !== undefined);
    expect(swarm.length).toBeGreaterThan(0);
    expect(
      nginxTestMany(
        swarm.map(({ id, swarmNginx }) => ({ id, config: swarmNginx! })),
        [],
      ),
    ).toEqual([]);
  });
});

describe('the answers file itself', () => {
  /** Runs with the given answers file; expects a rejection with code 1 that leaves everything as it was. */
  async function rejectedFile(content: string | Buffer, name = 'answers.yaml'): Promise<string> {
    const { parent, directory } = populatedDestination();
    writeFileSync(join(parent, name), content);
    const before = snapshot(parent);
    const error = await failure(generate({ directory, options: { answers: `../${name}` } }));
    expect(error, error.stack).toBeInstanceOf(UserError);
    expect(error.code).toBe(1);
    expect(snapshot(parent)).toEqual(before);
    return error.message;
  }

  /** A valid YAML answers file of exactly `size` bytes: one answer, then a comment as padding. */
  const paddedTo = (size: number) => {
    const head = 'projectName: big\n# ';
    return `${head}${'x'.repeat(size - head.length - 1)}\n`;
  };

  it('rejects a file just over 1 MiB, saying its size and the limit', async () => {
    const content = paddedTo(1024 * 1024 + 1);
    expect(Buffer.byteLength(content)).toBe(1_048_577);
    expect(await rejectedFile(content)).toMatch(
      /^Answers file .*answers\.yaml is 1048577 bytes; the limit is 1048576\.$/,
    );
  });

  it('reads a file of exactly 1 MiB', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'secure-stack-hostile-'));
    mkdirSync(join(parent, 'stack'));
    writeFileSync(join(parent, 'answers.yaml'), paddedTo(1024 * 1024));
    await generate({ directory: join(parent, 'stack'), options: { answers: '../answers.yaml' } });
    expect(readStored(join(parent, 'stack'))['projectName']).toBe('big');
  });

  it.each([
    ['a missing comma', '{\n  "projectName": "x",\n  "httpPort": 80\n  "redis": true\n}\n', 3, 15],
    ['a missing comma on one line', '{"projectName": "x" "redis": true}', 1, 21],
    ['an unclosed object', '{"projectName": "x"', 1, 20],
    ['a stray quote', '{"projectName": "x"", "redis": true}\n', 1, 20],
  ])('rejects malformed JSON (%s) with its line and column', async (_name, content, line, column) => {
    const message = await rejectedFile(content, 'answers.json');
    expect(message).toMatch(
      new RegExp(`^Answers file .*answers\\.json is not valid JSON or YAML at line ${line}, column ${column}: \\S`),
    );
    expect(message).not.toContain('\n');
  });

  it.each([
    ['a bad indentation', 'projectName: x\nmemory:\n  nginx: 64m\n bad: 1\n', 4, 1],
    ['an unclosed flow sequence', 'projectName: x\nroutes: [/api\n', 3, 1],
    ['a tab as indentation', 'memory:\n\tnginx: 64m\n', 2, 1],
    ['an alias before its anchor', 'projectName: *name\nname: &name shop\n', 1, 14],
    ['a list as a key', 'memory:\n  ? [nginx]\n  : 64m\n', 2, 5],
  ])('rejects malformed YAML (%s) with its line and column', async (_name, content, line, column) => {
    const message = await rejectedFile(content);
    expect(message).toMatch(
      new RegExp(`^Answers file .*answers\\.yaml is not valid JSON or YAML at line ${line}, column ${column}: \\S`),
    );
    expect(message).not.toContain('\n');
  });

  it('rejects a billion-laughs alias bomb without expanding it', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const name of 'bcdefghi') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    levels.push('routes: *i');
    // 9^9 (387 million) strings if expanded; the reader stops at 100 aliases.
    expect(await rejectedFile(`${levels.join('\n')}\n`)).toMatch(
      /^Answers file .* cannot be read: Excessive alias count indicates a resource exhaustion attack/,
    );
  });

  it.each([
    [
      'a PyYAML object',
      'projectName: !!python/object:__main__.Evil {}\n',
      /the value of "projectName" has the tag !!python\/object:__main__\.Evil: tags are not allowed/,
    ],
    [
      'a Ruby object',
      'projectName: !ruby/object:Gem::Installer {}\n',
      /the value of "projectName" has the tag !ruby\/object:Gem::Installer: tags are not allowed/,
    ],
    [
      'a verbatim tag',
      'projectName: !<tag:evil.example,2000:x> y\n',
      /the value of "projectName" has the tag tag:evil\.example,2000:x: tags are not allowed/,
    ],
    [
      'a %TAG shorthand',
      '%TAG !e! tag:evil.example,2000:\n---\nprojectName: !e!x y\n',
      /the value of "projectName" has the tag tag:evil\.example,2000:x: tags are not allowed/,
    ],
    [
      'a JavaScript function (js-yaml)',
      'projectName: !!js/function "function () { return 1 }"\n',
      /the value of "projectName" has the tag !!js\/function: tags are not allowed/,
    ],
    [
      'a YAML 1.1 timestamp',
      'projectName: !!timestamp 2001-12-14\n',
      /the value of "projectName" has the tag !!timestamp: tags are not allowed/,
    ],
    [
      'a YAML 1.1 pairs list',
      'routes: !!pairs [a: /x]\n',
      /the value of "routes" has the tag !!pairs: tags are not allowed/,
    ],
  ])('rejects a custom tag (%s)', async (_name, content, pattern) => {
    const message = await rejectedFile(content);
    expect(message).toMatch(/is not valid JSON or YAML at line \d+, column \d+: /);
    expect(message).toMatch(pattern);
    // The position once, and no dangling colon from the parser's own message.
    expect(message.match(/line \d+, column \d+/g)).toHaveLength(1);
    expect(message).not.toMatch(/:$/);
  });

  it('reads bytes that are not UTF-8 as replacement characters, which no rule accepts', async () => {
    const message = await rejectedFile(
      Buffer.concat([Buffer.from('projectName: shop'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]),
    );
    expect(message).toMatch(/projectName: "shop\ufffd\ufffd" must match/);
  });
});
