/**
 * `npm run bench`: prints a table of medians and their ratios to the baselines measured in the
 * same run, and writes them to bench-results/latest.json. BENCH_RUNS sets the repetitions.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { installPackedPackage } from '../test/support/packed.js';
import { benchmarkGeneration, peakRssMiB, type Measurement } from './generation.js';
import { positiveIntegerSetting } from './settings.js';
import { benchmarkStack, CONNECTIONS, LOAD_SECONDS, ROUNDS, type PathRatios } from './stack.js';

const runs = positiveIntegerSetting('BENCH_RUNS', 7);
const NOBODY = { uid: 65534, gid: 65534 };

function yoRunner() {
  const packed = installPackedPackage();
  const asRoot = process.getuid?.() === 0;
  const yo = [packed.bin('yo'), 'secure-stack', '--no-insight'];
  return {
    command: asRoot ? ['setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', ...yo] : yo,
    env: { NODE_PATH: packed.nodeModules },
    prepare: (directory: string) => {
      chmodSync(join(directory, '..'), 0o755);
      if (asRoot) chownSync(directory, NOBODY.uid, NOBODY.gid);
    },
  };
}

function table(measurements: Measurement[]): string {
  const rows = measurements.map((m) => [m.name, `${m.medianMs.toFixed(0)} ms`, m.baseline ? `${m.ratio!.toFixed(2)}x ${m.baseline}` : '', m.target ? `${m.target} ${m.met ? 'met' : 'MISSED'}` : '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), 4));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

// BENCH_GENERATION=0 skips the generation part (to re-measure the stack alone).
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`;
const generation = process.env['BENCH_GENERATION'] === '0' ? [] : benchmarkGeneration(runs, yoRunner());
const rss = process.env['BENCH_GENERATION'] === '0' ? undefined : peakRssMiB();
if (generation.length > 0) process.stdout.write(`Generation (median of ${runs} runs) on ${machine}\n${table(generation)}\npeak RSS of a fresh generation: ${rss} MiB\n`);
// The running stack needs root and podman (the end-to-end engine); BENCH_STACK=0 skips it.
let stack: Awaited<ReturnType<typeof benchmarkStack>> | undefined;
if (process.env['BENCH_STACK'] !== '0' && process.getuid?.() === 0) {
  stack = await benchmarkStack();
  const lines: string[] = [];
  for (const placement of stack.placements) {
    lines.push(`${placement.name}: ${placement.description}`);
    for (const t of placement.targets) lines.push(`  ${t.target.padEnd(31)} ${String(t.requestsPerSecond).padStart(6)} req/s  p99 ${t.p99Ms.toFixed(1).padStart(6)} ms  failed ${t.failed}  CPU ms/request proxy ${t.cpuMsPerAnswer.proxy.toFixed(3)} backend ${t.cpuMsPerAnswer.backend.toFixed(3)}  rounds ${t.rounds.join(' ')}`);
    const ratios = (pick: (ratios: PathRatios) => number) => Object.entries(placement.ratios).map(([path, ratio]) => `${path} ${pick(ratio).toFixed(2)}x`).join(', ');
    const met = Object.values(placement.ratios).every((ratio) => ratio.nginx >= 0.9);
    lines.push(`  medians of the rounds' ratios: through nginx / at the backend ${ratios((r) => r.nginx)} (target >= 0.9: ${met ? 'met' : 'MISSED'})`);
    lines.push(`    the hop alone, bare nginx / at the backend: ${ratios((r) => r.bare)}; the generated configuration, nginx / bare nginx: ${ratios((r) => r.configuration)}`);
  }
  for (const m of stack.memory) lines.push(`${m.service.padEnd(9)} peak ${String(m.peakMiB).padStart(6)} MiB of ${m.budgetMiB} MiB budget: ${m.within ? 'within' : 'OVER'}`);
  lines.push(`every service within its memory budget under load: ${stack.memory.every((m) => m.within) ? 'met' : 'MISSED'}`);
  process.stdout.write(`\nRunning stack (example answers; wrk, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating rounds of ${LOAD_SECONDS} s per target)\n${lines.join('\n')}\n`);
} else if (process.env['BENCH_STACK'] !== '0') {
  process.stdout.write('\nRunning stack: skipped, it needs root (rootful podman boots the stack)\n');
}
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/latest.json', `${JSON.stringify({ machine, runs, generation, peakRssMiB: rss, stack }, null, 2)}\n`);
