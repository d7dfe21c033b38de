/**
 * One bounded HTTP load with wrk (C, one thread): far lighter than a Node load generator, so on a
 * small machine the CPU goes to the servers being measured. Each load stops by itself after
 * `seconds` or `maxAnswers`, whichever comes first, and is killed if wrk overruns.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'bench/wrk-bounded.lua');

export interface LoadOptions {
  url: string;
  host: string;
  seconds: number;
  connections: number;
  maxAnswers: number;
  /** CPUs the load generator may run on (taskset list, e.g. "0"). */
  cpus: string;
}

export interface LoadSample {
  /** Answers with a status below 400. */
  answered: number;
  /** The same, per second. */
  requestsPerSecond: number;
  p99Ms: number;
  /** Answers of 400 and above plus connect, read, write and timeout errors. */
  failed: number;
}

interface WrkReport {
  requests: number;
  durationUs: number;
  statusErrors: number;
  socketErrors: number;
  p99Us: number;
}

export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

export function load(options: LoadOptions): LoadSample {
  const args = [
    '-c',
    options.cpus,
    'wrk',
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '5s',
    '-H',
    `Host: ${options.host}`,
    '-s',
    SCRIPT,
    options.url,
    '--',
    String(options.maxAnswers),
  ];
  const result = spawnSync('taskset', args, {
    encoding: 'utf8',
    timeout: (options.seconds + 15) * 1000,
    killSignal: 'SIGKILL',
  });
  const line = result.stdout?.split('\n').find((text) => text.startsWith('{"requests"'));
  if (result.status !== 0 || !line)
    throw new Error(`wrk ${options.url} failed (status ${result.status}): ${result.error?.message ?? result.stderr}`);
  const report = JSON.parse(line) as WrkReport;
  // wrk reports its full -d as the duration even when the script stopped it early: a capped load
  // has no true rate, so it is an error rather than an understated figure.
  if (report.requests >= options.maxAnswers)
    throw new Error(
      `wrk ${options.url} reached its cap of ${options.maxAnswers} answers before ${options.seconds} s: shorten BENCH_LOAD_SECONDS`,
    );
  const answered = report.requests - report.statusErrors;
  return {
    answered,
    requestsPerSecond: answered / (report.durationUs / 1e6),
    p99Ms: Math.round(report.p99Us / 100) / 10,
    failed: report.statusErrors + report.socketErrors,
  };
}
