/**
 * `npm run bench`: prints a table of medians and their ratios to the baselines measured in the
 * same run, and writes them to bench-results/latest.json. BENCH_RUNS sets the repetitions.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { installPackedPackage } from '../test/support/packed.js';
import { benchmarkGeneration, peakRssMiB, type Measurement } from './generation.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 7);
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

const generation = benchmarkGeneration(runs, yoRunner());
const rss = peakRssMiB();
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`;
process.stdout.write(`Generation (median of ${runs} runs) on ${machine}\n${table(generation)}\npeak RSS of a fresh generation: ${rss} MiB\n`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/latest.json', `${JSON.stringify({ machine, runs, generation, peakRssMiB: rss }, null, 2)}\n`);
