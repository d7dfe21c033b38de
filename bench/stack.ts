/**
 * Running-stack benchmarks: the example stack booted on Docker Engine by docker-compose and on
 * podman by the end-to-end runner (the e2e tests' drivers), loaded with wrk through nginx,
 * through a bare proxy_pass nginx (the control, bare-proxy.ts) and at the backend directly (all
 * at their addresses on the stack's own network, inside 198.18.0.0/15, so the paths differ only
 * by the proxy), and through nginx's published port on loopback (what the engine's publishing
 * adds: Docker's userland proxy, podman's NAT); then each container's peak memory read from its
 * cgroup and set against the limit in the generated compose.yaml.
 *
 * Targets are measured in rounds of alternating order (A B C D, D C B A, ...), so the two loads of
 * a path always run back to back; the ratio is the median of the per-round ratios, so a slow
 * minute on a shared machine does not land on one side only. Two CPU placements:
 *   tiered: the load generator and nginx on the first CPU, backend, PostgreSQL and Redis on the
 *           others, as a front tier and an application tier on separate hosts would be. The
 *           backend has the same CPUs with or without nginx in front: the ratio shows what the
 *           extra hop costs it, without nginx competing for its CPU.
 *   shared: every process on every CPU, as on one Compose host. On a 2-CPU machine the load
 *           generator, nginx and the backend then compete for the same cores.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMemorySize } from '../generators/lib/answers/memory-size.js';
import { BACKEND_HEALTH_PATH, BACKEND_PORT, NGINX_HTTP_PORT } from '../generators/lib/contract.js';
import { planStack, type StackPlan } from '../test/e2e/runner/compose.js';
import type { StackDriver } from '../test/e2e/support/driver.js';
import { BARE_PROXY_SERVICE, addBareProxyService } from './bare-proxy.js';
import type { Engine, EngineName } from '../verify/engine.js';
import { median } from './generation.js';
import { cpuSecondsReader } from './cgroup-cpu.js';
import { load, wrkAvailable, type LoadSample } from './load.js';
import { positiveIntegerSetting } from './settings.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const PROJECT = 'bench-shop';
const SERVER_NAME = 'shop.localhost';
/** Published instead of the example's 8080, which is often taken; the loads go to container addresses. */
const HTTP_PORT = 18_480;
export const LOAD_SECONDS = positiveIntegerSetting('BENCH_LOAD_SECONDS', 4);
export const ROUNDS = positiveIntegerSetting('BENCH_STACK_ROUNDS', 9);
/** Twice the example backend's concurrency (4 workers x 2 threads): saturated through either path. */
export const CONNECTIONS = 16;
/** Per load: more than a round answers here (about 11,000 in 4 s), so time is the usual bound. */
const MAX_ANSWERS = 200_000;
/** The backend's health view (a database and a Redis round trip) and a route of the example answers. */
const PATHS = [BACKEND_HEALTH_PATH, '/api/items'] as const;

/**
 * What a path is loaded through: the generated nginx, the control nginx that only proxies, the
 * backend directly (each at its container's address), and the generated nginx through the port
 * the engine publishes on the host's loopback.
 */
const VIAS = ['nginx', BARE_PROXY_SERVICE, 'backend', 'published'] as const;
type Via = (typeof VIAS)[number];
const VIA_LABELS: Record<Via, string> = {
  nginx: 'through nginx',
  [BARE_PROXY_SERVICE]: 'through bare nginx',
  backend: 'at the backend',
  published: 'via published port',
};
/** The container whose CPU a load through each way is charged to (besides the backend's). */
const PROXY_OF: Record<Via, string | undefined> = {
  nginx: 'nginx',
  [BARE_PROXY_SERVICE]: BARE_PROXY_SERVICE,
  backend: undefined,
  published: 'nginx',
};

export interface TargetResult {
  target: string;
  path: string;
  via: Via;
  requestsPerSecond: number;
  p99Ms: number;
  failed: number;
  rounds: number[];
  /** CPU milliseconds per answered request spent by the proxy loaded (if any) and by the backend (median of rounds). */
  cpuMsPerAnswer: { proxy: number; backend: number };
}

/** Medians of the per-round ratios of one path's throughputs. */
export interface PathRatios {
  /** The target: generated nginx / backend. */
  nginx: number;
  /** The hop alone: bare nginx / backend. */
  bare: number;
  /** The generated configuration on top of the hop: generated nginx / bare nginx. */
  configuration: number;
  /** What the engine's publishing costs: through the published port / through nginx's address. */
  publishing: number;
}

export interface PlacementResult {
  name: 'tiered' | 'shared';
  description: string;
  targets: TargetResult[];
  ratios: Record<string, PathRatios>;
}

export interface MemoryResult {
  service: string;
  peakMiB: number;
  budgetMiB: number;
  within: boolean;
}

interface Placement {
  name: PlacementResult['name'];
  description: string;
  loaderCpus: string;
  serviceCpus: Record<string, string>;
}

/** The CPUs this process may run on (its affinity, which a cpuset or taskset may narrow). */
function allowedCpus(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return list.split(',').flatMap((range) => {
    const [low = 0, high = low] = range.split('-').map(Number);
    return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  });
}

function placements(cpus: number[]): Placement[] {
  const all = cpus.join(',');
  const shared: Placement = {
    name: 'shared',
    description: `load generator and every service on CPUs ${all}`,
    loaderCpus: all,
    serviceCpus: { nginx: all, [BARE_PROXY_SERVICE]: all, backend: all, postgres: all, redis: all },
  };
  if (cpus.length < 2) return [shared];
  const front = String(cpus[0]);
  const rest = cpus.slice(1).join(',');
  const tiered: Placement = {
    name: 'tiered',
    description: `load generator and both nginx on CPU ${front}; backend, postgres and redis on CPU${cpus.length === 2 ? '' : 's'} ${rest}`,
    loaderCpus: front,
    serviceCpus: { nginx: front, [BARE_PROXY_SERVICE]: front, backend: rest, postgres: rest, redis: rest },
  };
  return [tiered, shared];
}

async function place(
  engine: Engine,
  containers: { id: string; service: string }[],
  placement: Placement,
): Promise<void> {
  for (const container of containers)
    await engine.must(['update', '--cpuset-cpus', placement.serviceCpus[container.service]!, container.id]);
}

/** CPU seconds used so far, per container (by service). */
type CpuReaders = Record<string, () => number>;
type Sample = LoadSample & { cpuMsPerAnswer: TargetResult['cpuMsPerAnswer'] };

function measurePlacement(urls: Record<Via, string>, cpu: CpuReaders, placement: Placement): PlacementResult {
  const targets = PATHS.flatMap((path) => VIAS.map((via) => ({ path, via, url: `${urls[via]}${path}` })));
  const run = (target: (typeof targets)[number], seconds: number): Sample => {
    const proxyService = PROXY_OF[target.via];
    const proxy = proxyService ? cpu[proxyService] : undefined;
    const backend = cpu['backend']!;
    const before = { proxy: proxy?.() ?? 0, backend: backend() };
    const sample = load({
      url: target.url,
      host: SERVER_NAME,
      seconds,
      connections: CONNECTIONS,
      maxAnswers: MAX_ANSWERS,
      cpus: placement.loaderCpus,
    });
    const perAnswer = (cpuSeconds: number) => Math.round((cpuSeconds * 1e6) / Math.max(sample.answered, 1)) / 1000;
    return {
      ...sample,
      cpuMsPerAnswer: {
        proxy: perAnswer((proxy?.() ?? 0) - before.proxy),
        backend: perAnswer(backend() - before.backend),
      },
    };
  };
  // Warm-up, not measured: after a move to other CPUs, and for each worker's first requests.
  for (const target of targets) run(target, 2);
  const samples = targets.map(() => [] as Sample[]);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order, so a drift in the machine's speed falls on both sides alike.
    const order = round % 2 === 0 ? targets.map((_, i) => i) : targets.map((_, i) => targets.length - 1 - i);
    for (const index of order) samples[index]!.push(run(targets[index]!, LOAD_SECONDS));
  }
  const results: TargetResult[] = targets.map((target, index) => ({
    target: `${target.path} ${VIA_LABELS[target.via]}`,
    path: target.path,
    via: target.via,
    requestsPerSecond: Math.round(median(samples[index]!.map((s) => s.requestsPerSecond))),
    p99Ms: median(samples[index]!.map((s) => s.p99Ms)),
    failed: samples[index]!.reduce((sum, s) => sum + s.failed, 0),
    rounds: samples[index]!.map((s) => Math.round(s.requestsPerSecond)),
    cpuMsPerAnswer: {
      proxy: median(samples[index]!.map((s) => s.cpuMsPerAnswer.proxy)),
      backend: median(samples[index]!.map((s) => s.cpuMsPerAnswer.backend)),
    },
  }));
  // Per round: the loads of a path run back to back in either order, so each pair saw the machine
  // in the same state; the median of the pairs' ratios is the ratio.
  const rounds = (path: string, via: Via) => results.find((r) => r.path === path && r.via === via)!.rounds;
  const ratio = (path: string, over: Via, under: Via) => {
    const base = rounds(path, under);
    return Math.round(median(rounds(path, over).map((rps, round) => rps / base[round]!)) * 100) / 100;
  };
  const ratios = Object.fromEntries(
    PATHS.map((path) => [
      path,
      {
        nginx: ratio(path, 'nginx', 'backend'),
        bare: ratio(path, BARE_PROXY_SERVICE, 'backend'),
        configuration: ratio(path, 'nginx', BARE_PROXY_SERVICE),
        publishing: ratio(path, 'published', 'nginx'),
      },
    ]),
  );
  return { name: placement.name, description: placement.description, targets: results, ratios };
}

async function peakMemory(
  engine: Engine,
  plan: StackPlan,
  containers: { id: string; service: string }[],
): Promise<MemoryResult[]> {
  const limits = new Map(plan.services.map((service) => [service.name, service.memory]));
  const memory: MemoryResult[] = [];
  for (const container of containers) {
    // cgroup v1 keeps the peak since the container started; v2 calls it memory.peak.
    const read = await engine.exec(container.id, [
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.peak',
    ]);
    const peakMiB = Math.round((Number(read.stdout.trim()) / 1024 ** 2) * 10) / 10;
    const limit = parseMemorySize(limits.get(container.service) ?? '');
    if (!limit) throw new Error(`${container.service} has no memory limit in compose.yaml`);
    const budgetMiB = limit.bytes / 1024 ** 2;
    memory.push({ service: container.service, peakMiB, budgetMiB, within: peakMiB <= budgetMiB });
  }
  return memory;
}

export interface EngineResult {
  engine: EngineName;
  client: string;
  placements: PlacementResult[];
  memory: MemoryResult[];
}

/** Boots the example stack (and the control) with `driver`, loads it in each placement, takes it down. */
export async function benchmarkStack(driver: StackDriver): Promise<EngineResult> {
  if (!wrkAvailable())
    throw new Error('wrk is missing: run scripts/test-prerequisites.sh (it installs the Debian package wrk)');
  const directory = join(mkdtempSync(join(tmpdir(), 'bench-stack-')), PROJECT);
  mkdirSync(directory);
  // The rate limit is raised: one load generator is one client address, and 429s are not throughput.
  // /health/ is published (publicHealth) so the published-port hop can be loaded on it too.
  execFileSync(
    'node',
    [
      join(ROOT, 'dist/cli/main.js'),
      '--answers',
      join(ROOT, 'examples/answers.json'),
      '--project-name',
      PROJECT,
      '--http-port',
      String(HTTP_PORT),
      '--rate-limit',
      '100000',
      '--public-health',
    ],
    {
      cwd: directory,
      env: { PATH: process.env['PATH'], CI: 'true' },
      stdio: 'ignore',
    },
  );
  const plan = planStack(directory);
  addBareProxyService(directory, readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8'), SERVER_NAME);
  await driver.build(directory);
  await driver.up(directory);
  try {
    const engine = driver.engine();
    const containers = await engine.containers(PROJECT);
    const address = (service: string) => {
      const found = containers.find((container) => container.service === service)?.addresses[
        `${PROJECT}_frontend-network`
      ];
      if (!found || !/^198\.1[89]\.\d+\.\d+$/.test(found))
        throw new Error(`${service} address ${found} is outside the engines' 198.18.0.0/15`);
      return found;
    };
    const urls: Record<Via, string> = {
      nginx: `http://${address('nginx')}:${NGINX_HTTP_PORT}`,
      [BARE_PROXY_SERVICE]: `http://${address(BARE_PROXY_SERVICE)}:${NGINX_HTTP_PORT}`,
      backend: `http://${address('backend')}:${BACKEND_PORT}`,
      published: `http://127.0.0.1:${HTTP_PORT}`,
    };
    const pid = async (service: string) =>
      Number(
        (
          await engine.must([
            'inspect',
            '--format',
            '{{.State.Pid}}',
            containers.find((c) => c.service === service)!.id,
          ])
        ).trim(),
      );
    const measured = ['nginx', BARE_PROXY_SERVICE, 'backend'];
    const cpu = Object.fromEntries(
      await Promise.all(measured.map(async (service) => [service, cpuSecondsReader(await pid(service))] as const)),
    ) as CpuReaders;
    const results: PlacementResult[] = [];
    for (const placement of placements(allowedCpus())) {
      await place(engine, containers, placement);
      results.push(measurePlacement(urls, cpu, placement));
    }
    const stackContainers = containers.filter((container) =>
      plan.services.some((service) => service.name === container.service),
    );
    return {
      engine: driver.engineName,
      client: driver.client,
      placements: results,
      memory: await peakMemory(engine, plan, stackContainers),
    };
  } finally {
    await driver.down(directory);
  }
}
