/** `secure-stack verify`'s command line and its Compose client's input, without an engine. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { runVerify } from '../../verify/command.js';
import { composeFileFor } from '../../verify/compose-client.js';
import { formatReport } from '../../verify/report.js';
import { EXAMPLE_ANSWERS, generateStack, stackDirectory } from '../e2e/support/stacks.js';

describe('verify command', () => {
  it('prints its help and exits 0; exits 2 for an unknown flag, a bad --only or no compose.yaml', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runVerify(['--help'], '/')).toBe(0);
      expect(String(out.mock.calls[0]?.[0])).toContain('--persistence');
      expect(await runVerify(['--bogus'], '/')).toBe(2);
      expect(await runVerify(['--engine', 'podman', '--only', '9'], '/')).toBe(2);
      expect(await runVerify(['--engine', 'rkt'], '/')).toBe(2);
      expect(await runVerify(['--engine', 'podman'], stackDirectory('empty'))).toBe(2);
      expect(err.mock.calls.map((call) => String(call[0])).join('')).toContain('compose.yaml not found');
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('prints one row per check and escapes control characters from containers', () => {
    const table = formatReport([
      { group: 'health', name: 'nginx healthy', ok: true, detail: 'healthy' },
      { group: 'secrets', name: 'no secret in argv', ok: false, detail: 'line\nFORGED\u202e' },
    ]);
    expect(table).toMatch(/^PASS {2}1 health/m);
    expect(table).toMatch(/^FAIL {2}5 secrets/m);
    expect(table).toContain('line\\u000aFORGED\\u202e');
    expect(table).toContain('1 passed, 1 failed');
  });

  it('gives docker-compose 1.29 compose.yaml without the top-level name only, and the others the file as it is', () => {
    const directory = stackDirectory('compose-client');
    generateStack(directory, ['--answers', EXAMPLE_ANSWERS]);
    const text = readFileSync(join(directory, 'compose.yaml'), 'utf8');
    const { name, ...rest } = parse(text) as Record<string, unknown>;
    expect(name).toBe('shop');
    const forV1 = composeFileFor('docker-compose', text);
    expect(parse(forV1)).toEqual(rest);
    // Only that line goes: the rest of the text, comments and quoting included, is as written.
    expect(forV1).toBe(text.replace(/^name: .*\n/m, ''));
    const octal = 'name: x  # the project\nservices:\n  a:\n    image: a\n    x-mode: 0440\n';
    expect(composeFileFor('docker-compose', octal)).toBe('services:\n  a:\n    image: a\n    x-mode: 0440\n');
    expect(composeFileFor('docker compose', text)).toBe(text);
    expect(composeFileFor('podman-compose', text)).toBe(text);
  });
});
