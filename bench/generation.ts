/**
 * Generation benchmarks: medians over repeated runs of the real `secure-stack` bin, each run
 * paired with a run of its baseline, and the median of those paired ratios. Wall time via hrtime
 * around a child process; peak RSS reported by the child itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  name: string;
  medianMs: number;
  baseline?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

/** The repository root: this file runs from dist-bench/bench/. */
const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'dist/cli/main.js');
const EXAMPLE = join(ROOT, 'examples/answers.json');

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd,
    stdio: 'ignore',
    env: { PATH: process.env['PATH'], CI: 'true', HOME: cwd, ...env },
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 && !(args.includes('--check') && result.status === 4))
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
  return elapsed;
}

function freshDirectory(): string {
  const directory = join(mkdtempSync(join(tmpdir(), 'bench-')), 'stack');
  mkdirSync(directory);
  return directory;
}

/** The example answers with `count` routes, as a JSON answers file of its own. */
function answersFileWithRoutes(count: number): string {
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  const routes = Array.from({ length: count }, (_, i) => ({ path: `/r${i}` }));
  const path = join(mkdtempSync(join(tmpdir(), 'bench-answers-')), `routes-${count}.json`);
  writeFileSync(path, `${JSON.stringify({ ...example, routes }, null, 2)}\n`);
  return path;
}

function routesFlag(count: number): string[] {
  return ['--routes', Array.from({ length: count }, (_, i) => `/r${i}`).join(',')];
}

interface Paired {
  baselineMs: number;
  candidateMs: number;
  /** Median of the per-run ratios candidate / baseline. */
  ratio: number;
}

/**
 * Runs baseline and candidate back to back `runs` times, after one warm-up of each, the first of
 * the two alternating: the medians of each and the median of the per-run ratios, so a slow second
 * on a shared machine, or a cache warmed by the first run, falls on both sides alike.
 */
function paired(runs: number, baseline: () => number, candidate: () => number): Paired {
  baseline();
  candidate();
  const pairs = Array.from({ length: runs }, (_, run) => {
    if (run % 2 === 0) {
      const base = baseline();
      return { base, candidate: candidate() };
    }
    const measured = candidate();
    return { base: baseline(), candidate: measured };
  });
  return {
    baselineMs: median(pairs.map((pair) => pair.base)),
    candidateMs: median(pairs.map((pair) => pair.candidate)),
    ratio: median(pairs.map((pair) => pair.candidate / pair.base)),
  };
}

/** A candidate against its baseline; with `maxRatio`, the target it meets or misses. */
function compared(name: string, pair: Paired, baseline: string, maxRatio?: number): Measurement {
  const measurement: Measurement = { name, medianMs: pair.candidateMs, baseline, ratio: pair.ratio };
  return maxRatio === undefined
    ? measurement
    : { ...measurement, target: `<= ${maxRatio}`, met: pair.ratio <= maxRatio };
}

export function benchmarkGeneration(
  runs: number,
  yo?: { command: string[]; env: NodeJS.ProcessEnv; prepare: (directory: string) => void },
): Measurement[] {
  const node = () => timed('node', ['-e', '0'], tmpdir());
  const fresh = () => timed('node', [BIN, '--answers', EXAMPLE], freshDirectory());
  const generated = freshDirectory();
  timed('node', [BIN, '--answers', EXAMPLE], generated);
  const withRoutes = (count: number) => () =>
    timed('node', [BIN, '--answers', EXAMPLE, ...routesFlag(count)], freshDirectory());

  const freshVsNode = paired(runs, node, fresh);
  const rerun = paired(runs, fresh, () => timed('node', [BIN], generated));
  const check = paired(runs, fresh, () => timed('node', [BIN, '--check'], generated));
  const fifty = paired(runs, withRoutes(1), withRoutes(50));
  const fiveHundred = paired(runs, withRoutes(1), withRoutes(500));
  const fromFile = (path: string) => () => timed('node', [BIN, '--answers', path], freshDirectory());
  const fiveHundredInFile = paired(runs, fromFile(answersFileWithRoutes(1)), fromFile(answersFileWithRoutes(500)));
  const measurements: Measurement[] = [
    { name: 'node -e 0', medianMs: freshVsNode.baselineMs },
    compared('fresh generation (bin, example answers)', freshVsNode, 'node -e 0', 3),
    compared('re-run, identical answers', rerun, 'fresh generation', 1),
    compared('--check', check, 'fresh generation', 1),
    // The 1-route figure is the 500-route pairs' baseline (the 50-route pairs measure their own).
    { name: '1 route', medianMs: fiveHundred.baselineMs },
    compared('50 routes', fifty, '1 route'),
    compared('500 routes', fiveHundred, '1 route', 1.3),
    { name: '1 route, answers file', medianMs: fiveHundredInFile.baselineMs },
    compared('500 routes, answers file', fiveHundredInFile, '1 route, answers file', 1.3),
  ];
  if (yo) {
    const viaYo = paired(runs, node, () => {
      const directory = freshDirectory();
      yo.prepare(directory);
      return timed(yo.command[0]!, [...yo.command.slice(1), '--answers', EXAMPLE], directory, yo.env);
    });
    measurements.splice(2, 0, compared('fresh generation (yo secure-stack)', viaYo, 'node -e 0'));
  }
  return measurements;
}

/** Peak resident memory of one fresh generation, as the child process reports it. */
export function peakRssMiB(): number {
  const directory = freshDirectory();
  const probe = `process.argv.splice(1, 0, ${JSON.stringify(BIN)}); process.on('exit', () => process.stderr.write('maxrss=' + process.resourceUsage().maxRSS + '\\n')); await import(${JSON.stringify(BIN)});`;
  const result = spawnSync('node', ['--input-type=module', '-e', probe, '--', '--answers', EXAMPLE], {
    cwd: directory,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], CI: 'true' },
  });
  const kib = Number(/maxrss=(\d+)/.exec(result.stderr)?.[1]);
  rmSync(directory, { recursive: true, force: true });
  return Math.round((kib / 1024) * 10) / 10;
}
