/** A .json answers file read with JSON.parse reads exactly as the YAML path reads it; anything JSON.parse would get wrong goes the YAML way. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { misreadByJsonParse, readAnswersFile } from '../../generators/lib/answers/answers-file.js';
import { parseAnswersText } from '../../generators/lib/answers/yaml-answers.js';
import type { UserError } from '../../generators/lib/errors.js';
import { EXAMPLE_ANSWERS_JSON } from '../support/generate.js';

const asJsonFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'answers-json-')), 'answers.json');
  writeFileSync(path, text);
  return path;
};

describe('answers.json', () => {
  it('finds a repeated key at any depth, decoded, none where keys only look alike, and nesting past 64 levels', () => {
    expect(misreadByJsonParse('{"a": 1, "a": 2}')).toBe(true);
    expect(misreadByJsonParse('{"memory": {"nginx": "64m", "nginx": "1g"}}')).toBe(true);
    expect(misreadByJsonParse('{"a": 1, "\\u0061": 2}')).toBe(true);
    expect(misreadByJsonParse('{"routes": [{"path": "/a"}, {"path": "/b"}]}')).toBe(false);
    expect(misreadByJsonParse('{"a": "a", "b": ["a", "a"], "c": {"a": 1}}')).toBe(false);
    expect(misreadByJsonParse('{"a\\"": 1, "a": 2}')).toBe(false);
    expect(misreadByJsonParse('{"a": "{\\"a\\": 1, \\"a\\": 2}"}')).toBe(false);
    expect(misreadByJsonParse(`{"a": ${'['.repeat(64)}${']'.repeat(64)}}`)).toBe(true);
    expect(misreadByJsonParse(`{"a": ${'['.repeat(63)}${']'.repeat(63)}}`)).toBe(false);
  });

  it('reads as the YAML path does: the example, escapes, __proto__, large and negative numbers, nesting', async () => {
    const documents = [
      readFileSync(EXAMPLE_ANSWERS_JSON, 'utf8'),
      '{"serverName": "shop\\u2028x", "routes": ["/a", {"path": "/b"}], "__proto__": {"x": 1}}',
      '{"httpPort": 1e400, "rateLimit": -0, "backendReplicas": 12345678901234567890, "cpus": {"nginx": 0.29, "redis": null}}',
      '[{"projectName": "x"}]',
      '"just a string"',
    ];
    for (const text of documents) {
      const viaJson = await readAnswersFile(asJsonFile(text));
      const viaYaml = parseAnswersText(text, 'answers.yaml');
      expect(viaJson, text).toEqual(viaYaml);
      expect(Object.keys(viaJson as object), text).toEqual(Object.keys(viaYaml as object));
    }
  });

  it('leaves what JSON.parse would get wrong to the YAML path and its messages: duplicates, syntax errors, a BOM, NUL', async () => {
    const message = async (text: string) => {
      try {
        await readAnswersFile(asJsonFile(text));
      } catch (error) {
        return (error as UserError).message;
      }
      return 'accepted';
    };
    expect(await message('{"dbName": "a",\n "dbName": "b"}')).toMatch(
      /at line 2, column 2: key "dbName" appears twice: each key may appear only once/,
    );
    expect(await message('{"dbName": "a"')).toMatch(/is not valid JSON or YAML at line 1, column/);
    // YAML 1.2 takes a trailing comma in a flow mapping; the YAML path reads it as before.
    expect(await readAnswersFile(asJsonFile('{"dbName": "a",}'))).toEqual({ dbName: 'a' });
    expect(await readAnswersFile(asJsonFile('\ufeff{"dbName": "a"}'))).toEqual({ dbName: 'a' });
    expect(await message('{"dbName": "a\u0000"}')).toMatch(/contains a NUL byte/);
    expect(await readAnswersFile(asJsonFile('null'))).toBeNull();
    // Nesting JSON.parse takes but the YAML path refuses with a position (a review found the bin
    // crashing on it with a stack overflow, exit 70): refused as invalid answers, not a bug.
    expect(await message(`{"routes": ${'['.repeat(5000)}${']'.repeat(5000)}}`)).toMatch(
      /is not valid JSON or YAML|Invalid answers/,
    );
    expect(await message(`{"routes": ${'['.repeat(100)}${']'.repeat(100)}}`)).toBe('accepted');
    // A CR alone in a value: the YAML path reads it as part of the value, and so the .json file.
    expect(await readAnswersFile(asJsonFile('{"httpPort":\r80}'))).toEqual(
      parseAnswersText('{"httpPort":\r80}', 'answers.yaml'),
    );
  });
});
