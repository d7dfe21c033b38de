/**
 * backend/serve.sh, the backend's PID 1: it runs the command and, told to stop, keeps it serving
 * for DRAIN_SECONDS before passing the signal on (a stopping Swarm replica is still in DNS
 * answers and nginx's cache). Run with Debian's sh (dash, as in the python image) on a stand-in
 * command that logs what it sees.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_ANSWERS_JSON, freshDirectory, generate } from '../support/generate.js';

// Logs "tick" every 0.1 s until TERM; then "term", and exits 3 (a status serve.sh must pass on).
// HUP (gunicorn's reload) is logged and changes nothing.
const STAND_IN = `trap 'echo term >> "$LOG"; exit 3' TERM
trap 'echo hup >> "$LOG"' HUP
while :; do echo tick >> "$LOG"; sleep 0.1; done`;

let script = '';
beforeAll(async () => {
  const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
  script = join(directory, 'backend/serve.sh');
});

async function stopAfterStart(
  drainSeconds: string | undefined,
  signals: NodeJS.Signals[] = ['SIGTERM'],
): Promise<{ code: number | null; ticksBeforeSignal: number; ticksAfterSignal: number; lines: string[] }> {
  const log = join(freshDirectory('serve'), 'log');
  writeFileSync(log, '');
  const child = spawn('sh', [script, 'sh', '-c', STAND_IN], {
    env: {
      PATH: process.env['PATH'],
      LOG: log,
      ...(drainSeconds === undefined ? {} : { DRAIN_SECONDS: drainSeconds }),
    },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  while (!readFileSync(log, 'utf8').includes('tick')) await new Promise((resolve) => setTimeout(resolve, 50));
  const ticksBeforeSignal = readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line === 'tick').length;
  for (const [index, signal] of signals.entries()) {
    if (index > 0) await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill(signal);
    // A reload signal that comes before serve.sh has noted its command's pid is dropped (the
    // command could not take it yet either): HUP again until the command has logged one.
    for (let tries = 0; signal === 'SIGHUP' && !readFileSync(log, 'utf8').includes('hup') && tries < 50; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!readFileSync(log, 'utf8').includes('hup')) child.kill(signal);
    }
  }
  const code = await exited;
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return {
    code,
    ticksBeforeSignal,
    ticksAfterSignal: lines.filter((line) => line === 'tick').length - ticksBeforeSignal,
    lines,
  };
}

describe('backend/serve.sh', () => {
  it('keeps the command running through DRAIN_SECONDS after TERM, then stops it and exits with its status', async () => {
    const { code, ticksAfterSignal, lines } = await stopAfterStart('1');
    // A second of 0.1 s ticks after the signal: the command served on; then it got TERM, once, last.
    expect(ticksAfterSignal).toBeGreaterThanOrEqual(5);
    expect(lines.at(-1)).toBe('term');
    expect(lines.filter((line) => line === 'term')).toHaveLength(1);
    expect(code).toBe(3);
  });

  it('takes a second TERM during the drain as no news: the drain runs once, to its end', async () => {
    const { code, ticksAfterSignal, lines } = await stopAfterStart('1', ['SIGTERM', 'SIGTERM', 'SIGINT']);
    expect(ticksAfterSignal).toBeGreaterThanOrEqual(5);
    expect(lines.filter((line) => line === 'term')).toHaveLength(1);
    expect(lines.at(-1)).toBe('term');
    expect(code).toBe(3);
  });

  it('passes HUP on at once (gunicorn reloads), then still stops after the drain', async () => {
    const { code, lines } = await stopAfterStart('1', ['SIGHUP', 'SIGTERM']);
    expect(lines).toContain('hup');
    expect(lines.indexOf('hup')).toBeLessThan(lines.indexOf('term'));
    expect(code).toBe(3);
  });

  it('passes TERM on at once without DRAIN_SECONDS (Compose)', async () => {
    const { code, ticksAfterSignal, lines } = await stopAfterStart(undefined);
    expect(ticksAfterSignal).toBeLessThanOrEqual(2);
    expect(lines.at(-1)).toBe('term');
    expect(code).toBe(3);
  });

  it("exits with the command's own status when the command ends by itself", async () => {
    const run = (command: string) =>
      new Promise<{ code: number | null }>((resolve) =>
        spawn('sh', [script, 'sh', '-c', command], { stdio: 'ignore' }).on('exit', (code) => resolve({ code })),
      );
    expect(await run('exit 0')).toEqual({ code: 0 });
    expect(await run('exit 7')).toEqual({ code: 7 });
    // Killed by a signal (an OOM kill): 128 + 9, as a shell reports it.
    expect(await run('kill -KILL $$')).toEqual({ code: 137 });
  });
});
