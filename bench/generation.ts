/**
 * Generation benchmarks: medians over repeated runs of the real `secure-stack` bin, each beside
 * its baseline measured in the same run. Wall time via hrtime around a child process; peak RSS
 * reported by the child itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  const result = spawnSync(command, args, { cwd, stdio: 'ignore', env: { PATH: process.env['PATH'], CI: 'true', HOME: cwd, ...env } });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 && !(args.includes('--check') && result.status === 4)) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
  return elapsed;
}

function freshDirectory(): string {
  const directory = join(mkdtempSync(join(tmpdir(), 'bench-')), 'stack');
  mkdirSync(directory);
  return directory;
}

function routesFlag(count: number): string[] {
  return ['--routes', Array.from({ length: count }, (_, i) => `/r${i}`).join(',')];
}

/** Runs `sample` `runs` times (after one warm-up) and returns the median in milliseconds. */
function medianOf(runs: number, sample: () => number): number {
  sample();
  return median(Array.from({ length: runs }, sample));
}

export function benchmarkGeneration(runs: number, yo?: { command: string[]; env: NodeJS.ProcessEnv; prepare: (directory: string) => void }): Measurement[] {
  const nodeBaseline = medianOf(runs, () => timed('node', ['-e', '0'], tmpdir()));
  const fresh = medianOf(runs, () => timed('node', [BIN, '--answers', EXAMPLE], freshDirectory()));
  const generated = freshDirectory();
  timed('node', [BIN, '--answers', EXAMPLE], generated);
  const rerun = medianOf(runs, () => timed('node', [BIN], generated));
  const check = medianOf(runs, () => timed('node', [BIN, '--check'], generated));
  const oneRoute = medianOf(runs, () => timed('node', [BIN, '--answers', EXAMPLE, ...routesFlag(1)], freshDirectory()));
  const fifty = medianOf(runs, () => timed('node', [BIN, '--answers', EXAMPLE, ...routesFlag(50)], freshDirectory()));
  const fiveHundred = medianOf(runs, () => timed('node', [BIN, '--answers', EXAMPLE, ...routesFlag(500)], freshDirectory()));
  const measurements: Measurement[] = [
    { name: 'node -e 0', medianMs: nodeBaseline },
    { name: 'fresh generation (bin, example answers)', medianMs: fresh, baseline: 'node -e 0', ratio: fresh / nodeBaseline, target: '<= 4', met: fresh / nodeBaseline <= 4 },
    { name: 're-run, identical answers', medianMs: rerun, baseline: 'fresh generation', ratio: rerun / fresh, target: '<= 1', met: rerun <= fresh },
    { name: '--check', medianMs: check, baseline: 'fresh generation', ratio: check / fresh, target: '<= 1', met: check <= fresh },
    { name: '1 route', medianMs: oneRoute },
    { name: '50 routes', medianMs: fifty, baseline: '1 route', ratio: fifty / oneRoute },
    { name: '500 routes', medianMs: fiveHundred, baseline: '1 route', ratio: fiveHundred / oneRoute, target: '<= 1.3', met: fiveHundred / oneRoute <= 1.3 },
  ];
  if (yo) {
    const viaYo = medianOf(runs, () => {
      const directory = freshDirectory();
      yo.prepare(directory);
      return timed(yo.command[0]!, [...yo.command.slice(1), '--answers', EXAMPLE], directory, yo.env);
    });
    measurements.splice(2, 0, { name: 'fresh generation (yo secure-stack)', medianMs: viaYo, baseline: 'node -e 0', ratio: viaYo / nodeBaseline });
  }
  return measurements;
}

/** Peak resident memory of one fresh generation, as the child process reports it. */
export function peakRssMiB(): number {
  const directory = freshDirectory();
  const probe = `process.argv.splice(1, 0, ${JSON.stringify(BIN)}); process.on('exit', () => process.stderr.write('maxrss=' + process.resourceUsage().maxRSS + '\\n')); await import(${JSON.stringify(BIN)});`;
  const result = spawnSync('node', ['--input-type=module', '-e', probe, '--', '--answers', EXAMPLE], { cwd: directory, encoding: 'utf8', env: { PATH: process.env['PATH'], CI: 'true' } });
  const kib = Number(/maxrss=(\d+)/.exec(result.stderr)?.[1]);
  rmSync(directory, { recursive: true, force: true });
  return Math.round((kib / 1024) * 10) / 10;
}
