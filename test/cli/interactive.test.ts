/**
 * The prompts in a real terminal: the `secure-stack` bin under tmux, answered key by key as a
 * person would, with the defaults each prompt proposes (the database name follows the project's).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { freshDirectory, REPO_ROOT } from '../support/generate.js';
import { hasCommand, prerequisite } from '../support/prerequisites.js';

const haveTmux = prerequisite('tmux', () => hasCommand('tmux', ['-V']), 'scripts/test-prerequisites.sh');

const tmux = (...args: string[]) => spawnSync('tmux', ['-L', 'secure-stack-test', ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'generator').stdout;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What to type at each prompt, by a word of its question; every other prompt takes its default. */
const ANSWERS: [RegExp, string][] = [
  [/^\? Compose project name/, 'my-shop'],
  [/^\? Host port nginx publishes \(/, '9090'],
  [/^\? Include Redis/, 'n'],
  [/^\? Path prefixes nginx proxies/, '/api,/v2/'],
];

it.runIf(haveTmux)(
  'asks every question in a terminal and writes the answers given',
  async () => {
    const directory = freshDirectory('tty-stack');
    // No CI variable: with a terminal on stdin the bin asks.
    const command = `env -u CI node ${JSON.stringify(join(REPO_ROOT, 'dist/cli/main.js'))}; echo "EXIT=$?"; sleep 60`;
    expect(tmux('new-session', '-d', '-s', 'generator', '-x', '220', '-y', '60', '-c', directory, command).status).toBe(
      0,
    );
    try {
      const asked: string[] = [];
      const deadline = Date.now() + 60_000;
      while (!/EXIT=\d+/.test(screen()) && Date.now() < deadline) {
        const lines = screen()
          .split('\n')
          .filter((line) => line.trim() !== '');
        const current = lines[lines.length - 1] ?? '';
        if (!current.startsWith('? ') || asked.includes(current)) {
          await sleep(100);
          continue;
        }
        asked.push(current);
        const answer = ANSWERS.find(([question]) => question.test(current))?.[1];
        if (answer !== undefined) tmux('send-keys', '-t', 'generator', '-l', answer);
        tmux('send-keys', '-t', 'generator', 'Enter');
        await sleep(150);
      }
      expect(screen()).toMatch(/EXIT=0/);
      expect(asked.find((line) => line.startsWith('? PostgreSQL database name'))).toMatch(/\(my_shop\)$/);
      const stored = JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8'))['generator-secure-stack'];
      expect(stored).toMatchObject({
        projectName: 'my-shop',
        dbName: 'my_shop',
        httpPort: 9090,
        redis: false,
        tls: 'off',
        routes: [{ path: '/api' }, { path: '/v2' }],
      });
      // Redis' memory is not asked without Redis; TLS files are not asked with TLS off.
      expect(asked.some((line) => /Redis container|Certificate chain|Private key/.test(line))).toBe(false);
    } finally {
      tmux('kill-session', '-t', 'generator');
    }
  },
  90_000,
);
