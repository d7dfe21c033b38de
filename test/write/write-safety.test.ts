/**
 * Writes stay inside the destination and are all-or-nothing: symlinks pointing out are refused,
 * and a run killed at any moment leaves the old tree or the new one (finished by the next run).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recoverInterruptedRun } from '../../generators/lib/write/transaction.js';
import { EXAMPLE_ANSWERS_JSON, failure, freshDirectory, generate, REPO_ROOT } from '../support/generate.js';
import { snapshot } from '../support/snapshot.js';

describe('symbolic links in the destination', () => {
  it.each([
    ['a directory link (nginx -> outside)', 'nginx'],
    ['a file link (compose.yaml -> outside)', 'compose.yaml'],
    ['the secrets directory', 'secrets'],
  ])('refuses to write through %s and touches nothing outside', async (_name, linkName) => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    writeFileSync(join(outside, 'compose.yaml'), 'precious\n');
    const before = snapshot(outside);
    const directory = freshDirectory();
    symlinkSync(linkName === 'compose.yaml' ? join(outside, 'compose.yaml') : outside, join(directory, linkName));
    const error = await failure(generate({ directory, options: { answers: EXAMPLE_ANSWERS_JSON } }));
    expect(error.code).toBe(2);
    expect(error.message).toMatch(new RegExp(`${linkName} is a symbolic link`));
    expect(snapshot(outside)).toEqual(before);
    expect(readdirSync(directory)).toEqual([linkName]);
  });

  it('reads an answers file kept inside the destination without harm', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'answers.json'), '{"projectName": "inside"}');
    await generate({ directory, options: { answers: 'answers.json' } });
    expect(readdirSync(directory)).toContain('compose.yaml');
  });
});

describe('interrupted runs', () => {
  const bin = join(REPO_ROOT, 'dist/cli/main.js');

  /** Old tree: the example answers. New tree: 500 routes and other answers, so many files change. */
  async function trees(): Promise<{ old: string; next: string }> {
    const old = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const next = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    return { old, next };
  }

  function runKilledAfter(directory: string, delayMs: number, signal: NodeJS.Signals): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn(
        'node',
        [
          bin,
          '--http-port',
          '9100',
          '--routes',
          Array.from({ length: 500 }, (_, i) => `/r${i}`).join(','),
          '--no-redis',
        ],
        {
          cwd: directory,
          env: { PATH: process.env['PATH'], CI: 'true' },
          stdio: 'ignore',
        },
      );
      const timer = setTimeout(() => child.kill(signal), delayMs);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  it.each(['SIGTERM', 'SIGINT', 'SIGKILL'] as const)(
    'leaves the old or the complete new tree when killed by %s at random moments',
    async (signal) => {
      const { old, next } = await trees();
      // The secrets differ between the two directories; compare everything else.
      const comparable = (directory: string) => {
        const tree = snapshot(directory, { times: false });
        for (const path of Object.keys(tree))
          if (path.startsWith('secrets/') && !path.endsWith('README.md')) delete tree[path];
        return JSON.stringify(tree);
      };
      const oldTree = comparable(old);
      await runKilledAfter(next, 60_000, signal); // completes: the reference new tree
      const newTree = comparable(next);
      expect(newTree).not.toBe(oldTree);
      const outcomes = new Set<string>();
      for (let attempt = 0; attempt < 12; attempt += 1) {
        const directory = mkdtempSync(join(tmpdir(), 'interrupted-'));
        mkdirSync(join(directory, 'stack'));
        const target = join(directory, 'stack');
        await generate({ directory: target, options: { answers: EXAMPLE_ANSWERS_JSON } });
        await runKilledAfter(target, 150 + Math.floor(Math.random() * 900), signal);
        // What the next run does first: finish a committed transaction, discard an uncommitted one.
        recoverInterruptedRun(target);
        const tree = comparable(target);
        const outcome = tree === oldTree ? 'old' : tree === newTree ? 'new' : 'partial';
        expect(outcome, `attempt ${attempt}`).not.toBe('partial');
        outcomes.add(outcome);
      }
      expect(outcomes.size).toBeGreaterThan(0);
    },
    120_000,
  );
});
