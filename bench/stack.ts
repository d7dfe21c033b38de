/**
 * Running-stack benchmarks: the example stack booted in podman by the end-to-end runner, loaded
 * with autocannon through nginx (on its loopback port) and at the backend directly (its address
 * on the stack's own network, inside 198.18.0.0/15), then each container's peak memory read from
 * its cgroup and set against its budget. Every load is bounded in time and stops by itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { down, podman, up } from '../test/e2e/runner/runner.js';
import { ensureImages } from '../test/e2e/support/images.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const PROJECT = 'bench-shop';
const SERVER_NAME = 'shop.localhost';
const HTTP_PORT = 18_480;
const LOAD_SECONDS = Number(process.env['BENCH_LOAD_SECONDS'] ?? 8);
const CONNECTIONS = 16;

export interface LoadResult {
  target: string;
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
}

export interface MemoryResult {
  service: string;
  peakMiB: number;
  budgetMiB: number;
  within: boolean;
}

async function load(target: string, url: string): Promise<LoadResult> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS, headers: { host: SERVER_NAME } });
  // Only answers the backend served count: a 429 or an error is not throughput.
  const ok = result['2xx'];
  return { target, requestsPerSecond: ok / LOAD_SECONDS, p99Ms: result.latency.p99, non2xx: result.non2xx + result.errors };
}

function budgetMiB(text: string): number {
  const amount = Number.parseInt(text, 10);
  return text.endsWith('g') ? amount * 1024 : text.endsWith('k') ? amount / 1024 : amount;
}

export async function benchmarkStack(): Promise<{ loads: LoadResult[]; memory: MemoryResult[] }> {
  ensureImages();
  const directory = join(mkdtempSync(join(tmpdir(), 'bench-stack-')), PROJECT);
  mkdirSync(directory);
  // The rate limit is raised: one load generator is one client address, and 429s are not throughput.
  execFileSync('node', [join(ROOT, 'dist/cli/main.js'), '--answers', join(ROOT, 'examples/answers.json'), '--project-name', PROJECT, '--http-port', String(HTTP_PORT), '--rate-limit', '100000'], {
    cwd: directory,
    env: { PATH: process.env['PATH'], CI: 'true' },
    stdio: 'ignore',
  });
  await up(directory);
  try {
    const engine = podman();
    const containers = await engine.containers(PROJECT);
    const backend = containers.find((container) => container.service === 'backend')!;
    const backendAddress = backend.addresses[`${PROJECT}_frontend-network`];
    if (!backendAddress?.startsWith('198.1')) throw new Error(`backend address ${backendAddress} is outside the engine's 198.18.0.0/15`);
    // Warm-up, not measured: the first requests of each gunicorn worker import modules and open
    // its database connection, which would count against whichever target runs first.
    await autocannon({ url: `http://127.0.0.1:${HTTP_PORT}/health/`, connections: CONNECTIONS, duration: 3, headers: { host: SERVER_NAME } });
    await autocannon({ url: `http://${backendAddress}:8000/api/items`, connections: CONNECTIONS, duration: 3, headers: { host: SERVER_NAME } });
    const loads = [
      await load('/health/ through nginx', `http://127.0.0.1:${HTTP_PORT}/health/`),
      await load('/health/ at the backend', `http://${backendAddress}:8000/health/`),
      await load('/api/items through nginx', `http://127.0.0.1:${HTTP_PORT}/api/items`),
      await load('/api/items at the backend', `http://${backendAddress}:8000/api/items`),
    ];
    const budgets: Record<string, string> = { nginx: '64m', backend: '512m', postgres: '1g', redis: '128m' };
    const memory: MemoryResult[] = [];
    for (const container of containers) {
      // cgroup v1 keeps the peak since the container started; v2 calls it memory.peak.
      const read = await engine.exec(container.name, ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.peak']);
      const peakMiB = Math.round((Number(read.stdout.trim()) / 1024 ** 2) * 10) / 10;
      const budget = budgetMiB(budgets[container.service]!);
      memory.push({ service: container.service, peakMiB, budgetMiB: budget, within: peakMiB <= budget });
    }
    return { loads, memory };
  } finally {
    await down(directory, { volumes: true });
  }
}
