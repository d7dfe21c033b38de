/**
 * Every answer in the schema is under test: a generator of valid, edge and hostile values in the
 * property tests, a rule in their oracle, its flag as the README's table names it, and entries in
 * the hostile corpus. The next answer added to generators/lib/answers/fields.ts fails here until
 * all of them exist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIELD_LIST } from '../../generators/lib/answers/fields.js';
import { FIELD_ARBITRARIES } from '../support/answers-arbitraries.js';
import { FIELD_KEYS, FLAG, RULES } from '../support/answers-oracle.js';
import { REPO_ROOT } from '../support/generate.js';

const SCHEMA_KEYS = FIELD_LIST.map((field) => field.key);
const CORPUS = parse(readFileSync(join(REPO_ROOT, 'test/answers/hostile-corpus.yaml'), 'utf8')) as {
  field: string;
  accepted?: unknown;
  rejected?: string;
}[];
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('every answer in the schema is under test', () => {
  it("the oracle lists exactly the schema's answers", () => {
    expect([...FIELD_KEYS].sort()).toEqual([...SCHEMA_KEYS].sort());
  });

  it.each(SCHEMA_KEYS)('%s has a generator, an oracle rule, its flag, corpus entries and a README row', (key) => {
    const field = FIELD_LIST.find((f) => f.key === key)!;
    expect(typeof (FIELD_ARBITRARIES as Record<string, unknown>)[key], 'property-test generator').toBe('function');
    expect(typeof (RULES as Record<string, unknown>)[key], 'oracle rule').toBe('function');
    expect((FLAG as Record<string, string>)[key], 'flag').toBe(field.flag);
    const entries = CORPUS.filter((entry) => entry.field === key);
    expect(entries.filter((entry) => 'rejected' in entry).length, 'rejected corpus entries').toBeGreaterThanOrEqual(1);
    expect(
      entries.filter((entry) => 'accepted' in entry).length + entries.filter((entry) => 'rejected' in entry).length,
      'corpus entries',
    ).toBeGreaterThanOrEqual(2);
    // The README's table has a row for each answer (cpus.* shares one: `cpus.nginx`, `.backend`, ...).
    const [parent, child] = key.split('.');
    const rows = README.split('\n').filter((line) => line.startsWith(`| \`${child === undefined ? key : parent}`));
    const row = rows.find(
      (line) =>
        line.startsWith(`| \`${key}\``) ||
        (child !== undefined && line.startsWith(`| \`${parent}.nginx\`,`) && line.includes(`\`.${child}\``)),
    );
    expect(row, 'README answers table').toBeDefined();
    // Its flag as the README names it (the shared cpus.* row shows the first service's).
    const flagShown =
      child !== undefined && row!.startsWith(`| \`${parent}.nginx\`,`) ? `--${parent}-nginx` : `--${field.flag}`;
    expect(row, 'README flag').toContain(`\`${flagShown}`);
  });
});
