/**
 * End to end: generated stacks boot in rootful podman from their own compose.yaml and pass the
 * shipped checks (generators/lib/verify). The stacks boot concurrently (vitest gives a 2-core
 * machine one worker, so one file does the overlapping), each on its own host port.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../generators/lib/verify/checks.js';
import { formatReport } from '../../generators/lib/verify/report.js';
import { runVerify } from '../../generators/lib/verify/command.js';
import { planStack } from './runner/compose.js';
import { BACKEND_HEALTH_PATH, BACKEND_PORT } from '../../generators/lib/stack/model.js';
import { containerName, down, downAll, podman, podmanEnv, recreate, up } from './runner/runner.js';
import { ensureImages } from './support/images.js';
import { breakages, missedFailures, withBreakage } from './support/self-test.js';
import { enginePrerequisite, EXAMPLE_ANSWERS, expectAllPassed, generateStack, removeTemporaryDirectories, stackDirectory, verifyStack } from './support/stacks.js';

const enabled = enginePrerequisite();

interface Stack {
  id: string;
  args: string[];
  directory: string;
  boot?: Promise<number>;
}

const routes60 = Array.from({ length: 60 }, (_, index) => `/r${index + 1}`).join(',');
const stacks: Stack[] = [
  { id: 'example', args: ['--answers', EXAMPLE_ANSWERS] },
  { id: 'no-redis', args: ['--answers', EXAMPLE_ANSWERS, '--no-redis'] },
  { id: 'routes-60', args: ['--answers', EXAMPLE_ANSWERS, '--routes', routes60] },
  { id: 'min-budgets', args: ['--answers', EXAMPLE_ANSWERS, '--memory-nginx', '16m', '--memory-backend', '128m', '--memory-postgres', '128m', '--memory-redis', '16m'] },
  { id: 'upgrade', args: ['--answers', EXAMPLE_ANSWERS] },
  { id: 'tls', args: ['--answers', EXAMPLE_ANSWERS, '--tls', 'self-signed', '--https-port', '18181'] },
].map((stack, index) => ({ ...stack, args: [...stack.args, '--project-name', `e2e-${stack.id}`, '--http-port', String(18081 + index)], directory: '' }));

interface InspectedContainer {
  EffectiveCaps: string[] | null;
  Config: { User: string; Healthcheck?: { Test: string[] } };
  HostConfig: {
    Memory: number;
    PidsLimit: number;
    ReadonlyRootfs: boolean;
    SecurityOpt: string[];
    RestartPolicy: { Name: string };
    LogConfig: { Type: string; Size: string };
    Tmpfs?: Record<string, string>;
    ShmSize: number;
  };
  NetworkSettings: { Networks: Record<string, unknown> };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
function bytes(size: string): number {
  const match = /^(\d+)([bkmg]?)$/i.exec(size);
  if (!match) throw new Error(`size ${size}`);
  return Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? NaN);
}

const timings: string[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

async function booted(stack: Stack): Promise<void> {
  if (!stack.boot) throw new Error(`${stack.id} was not started`);
  await stack.boot;
}

async function timed<T>(stack: Stack, phase: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    timings.push(`${stack.id.padEnd(12)} ${phase.padEnd(22)} ${seconds(Date.now() - t0)}`);
  }
}

function byId(id: string): Stack {
  const stack = stacks.find((candidate) => candidate.id === id);
  if (!stack) throw new Error(id);
  return stack;
}

/** The podman runner applied each key: read back from `podman inspect` and the containers' mounts. */
async function keysTookEffect(directory: string): Promise<void> {
  const plan = planStack(directory);
  const engine = podman();
  const problems: string[] = [];
  for (const service of plan.services) {
    const name = `${plan.project}-${service.name}-1`;
    const [raw] = JSON.parse(await engine.must(['inspect', '--type', 'container', name])) as InspectedContainer[];
    if (!raw) throw new Error(`no container for ${service.name}`);
    const host = raw.HostConfig;
    const expectEqual = (what: string, actual: unknown, wanted: unknown) => {
      if (JSON.stringify(actual) !== JSON.stringify(wanted)) problems.push(`${service.name} ${what}: ${JSON.stringify(actual)} != ${JSON.stringify(wanted)}`);
    };
    expectEqual('memory', host.Memory, service.memory ? bytes(service.memory) : 0);
    expectEqual('pids_limit', host.PidsLimit, service.pidsLimit);
    expectEqual('read_only', host.ReadonlyRootfs, service.readOnly);
    expectEqual('security_opt', host.SecurityOpt, ['no-new-privileges']);
    expectEqual('cap_drop ALL + cap_add', [...(raw.EffectiveCaps ?? [])].sort(), service.capAdd.map((cap) => `CAP_${cap}`).sort());
    expectEqual('restart', host.RestartPolicy.Name, service.restart);
    expectEqual('logging', [host.LogConfig.Type, host.LogConfig.Size], ['k8s-file', '10MB']);
    expectEqual('user', raw.Config.User || undefined, service.user);
    if (service.shmSize) expectEqual('shm_size', host.ShmSize, bytes(service.shmSize));
    expectEqual('networks', Object.keys(raw.NetworkSettings.Networks).sort(), service.networks.map((network) => `${plan.project}_${network}`).sort());
    expectEqual('healthcheck', raw.Config.Healthcheck?.Test, service.healthcheck?.test);
    // tmpfs: inspect misses paths behind a symlink (/var/run -> /run), so read the mounts.
    const mounts = await engine.exec(name, ['sh', '-c', 'for p in "$@"; do r=$(readlink -f "$p"); grep -q " $r tmpfs [^ ]*noexec" /proc/mounts || echo "$p"; done', 'sh', ...service.tmpfs]);
    if (mounts.code !== 0 || mounts.stdout.trim()) problems.push(`${service.name} tmpfs missing or without noexec: ${mounts.stdout.trim() || mounts.stderr.trim()}`);
  }
  const [network] = JSON.parse(await engine.must(['network', 'inspect', `${plan.project}_backend-network`])) as { internal: boolean }[];
  if (network?.internal !== true) problems.push('backend-network is not internal');
  expect(problems).toEqual([]);
}

/** The shipped command itself, on the podman stack. */
async function verifyCommandPasses(directory: string): Promise<void> {
  // The command drives the engine CLI with the caller's environment: the e2e podman's.
  for (const [key, value] of Object.entries(podmanEnv())) if (key.startsWith('CONTAINERS_')) vi.stubEnv(key, value ?? '');
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await runVerify(['--engine', 'podman', '--only', '1,2'], directory);
    const printed = out.mock.calls.map((call) => String(call[0])).join('');
    expect(printed, printed).toMatch(/on podman[\s\S]*PASS {2}2 routing[\s\S]* passed, 0 failed/);
    expect(code).toBe(0);
  } finally {
    out.mockRestore();
    vi.unstubAllEnvs();
  }
}

/**
 * `count` health checks inside the backend container, then its sockets to Redis by TCP state (from
 * the container's own /proc/net/tcp; 18EB is port 6379, 01 ESTABLISHED, 06 TIME_WAIT).
 */
async function redisSocketsAfterHealthChecks(directory: string, count: number): Promise<{ statuses: number[]; timeWait: number; established: number }> {
  const plan = planStack(directory);
  const probe = `
import json, urllib.error, urllib.request
def check():
    try:
        return urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:${BACKEND_PORT}${BACKEND_HEALTH_PATH}", headers={"Host": "shop.localhost"}), timeout=15).status
    except urllib.error.HTTPError as error:
        return error.code
statuses = sorted({check() for _ in range(${count})})
with open("/proc/net/tcp") as table:
    redis = [row.split() for row in table.readlines()[1:] if row.split()[2].endswith(":18EB")]
print(json.dumps({"statuses": statuses, "timeWait": sum(row[3] == "06" for row in redis), "established": sum(row[3] == "01" for row in redis)}))
`;
  const result = await podman().exec(containerName(plan.project, 'backend'), ['python', '-c', probe]);
  if (result.code !== 0) throw new Error(`health checks in the backend failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { statuses: number[]; timeWait: number; established: number };
}

/** `count` simultaneous GETs of `path` through nginx on loopback, with the stack's host name. */
function burst(stack: Stack, path: string, count: number): Promise<number[]> {
  const port = Number(stack.args[stack.args.indexOf('--http-port') + 1]);
  const one = () =>
    new Promise<number>((resolve) => {
      const request = httpRequest({ host: '127.0.0.1', port, path, headers: { host: 'shop.localhost' }, agent: false, timeout: 10_000 }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.on('error', () => resolve(0));
      request.on('timeout', () => request.destroy());
      request.end();
    });
  return Promise.all(Array.from({ length: count }, one));
}

describe.runIf(enabled)('e2e: generated stacks in podman', () => {
  const t0 = Date.now();
  beforeAll(() => {
    ensureImages();
    for (const stack of stacks) {
      stack.directory = stackDirectory(stack.id);
      generateStack(stack.directory, stack.args);
      const started = Date.now();
      stack.boot = up(stack.directory).then(() => {
        timings.push(`${stack.id.padEnd(12)} ${'boot'.padEnd(22)} ${seconds(Date.now() - started)}`);
        return Date.now() - started;
      });
      stack.boot.catch(() => undefined); // reported by the stack's own test
    }
  }, 900_000);

  afterAll(async () => {
    await Promise.allSettled(stacks.map((stack) => stack.boot));
    for (const stack of stacks) if (stack.directory) await down(stack.directory, { volumes: true, images: true });
    downAll();
    removeTemporaryDirectories();
    timings.push(`${'all'.padEnd(12)} ${'total (boot to down)'.padEnd(22)} ${seconds(Date.now() - t0)}`);
    console.log(`[e2e] timings\n${timings.join('\n')}`);
  }, 300_000);

  it.concurrent('no-redis: passes checks 1-6; self-test: deliberately broken, it is reported as failing', async () => {
    const stack = byId('no-redis');
    await booted(stack);
    expectAllPassed(await timed(stack, 'checks 1-5', () => verifyStack(stack.directory, ['health', 'routing', 'isolation', 'auth', 'secrets'])));
    expectAllPassed(await timed(stack, 'check 6 (persistence)', () => verifyStack(stack.directory, ['persistence'])));
    const problems: string[] = [];
    for (const breakage of breakages('/api')) {
      const results: CheckResult[] = await timed(stack, `broken: ${breakage.name.slice(0, 14)}`, () => withBreakage(stack.directory, breakage, (groups) => verifyStack(stack.directory, groups, false)));
      const missed = missedFailures(breakage, results);
      if (missed.length > 0) problems.push(`${breakage.name}: not reported: ${missed.join('; ')}\n${formatReport(results)}`);
    }
    // Restored: everything passes again (dependents recreated after postgres, in order, as `up` would).
    await recreate(stack.directory, 'backend');
    await recreate(stack.directory, 'nginx');
    expectAllPassed(await verifyStack(stack.directory, ['health', 'routing', 'isolation', 'auth', 'secrets']));
    expect(problems).toEqual([]);
  }, 600_000);

  it.concurrent('example: boots healthy, every compose.yaml key took effect, `verify` and checks 1-6 pass', async () => {
    const stack = byId('example');
    await booted(stack);
    await timed(stack, 'keys took effect', () => keysTookEffect(stack.directory));
    expectAllPassed(await timed(stack, 'checks 1-5', () => verifyStack(stack.directory, ['health', 'routing', 'isolation', 'auth', 'secrets'])));
    await timed(stack, 'verify command (1,2)', () => verifyCommandPasses(stack.directory));
    // The health view reuses its Redis connections: a connection per check would leave 60 sockets
    // in TIME_WAIT, and a flood of checks would use up the backend's ephemeral ports.
    const sockets = await timed(stack, 'health checks (Redis)', () => redisSocketsAfterHealthChecks(stack.directory, 60));
    expect(sockets.statuses).toEqual([200]);
    expect(sockets.timeWait, JSON.stringify(sockets)).toBeLessThan(5);
    expect(sockets.established, JSON.stringify(sockets)).toBeGreaterThan(0);
    expectAllPassed(await timed(stack, 'check 6 (persistence)', () => verifyStack(stack.directory, ['persistence'])));
    // Check 6 recreated PostgreSQL and Redis: the connections the workers kept from before are
    // stale, and each worker's first check replaces them (several checks, to reach several
    // workers; the name lookups of new containers can take seconds in podman).
    expect((await redisSocketsAfterHealthChecks(stack.directory, 8)).statuses).toEqual([200]);
    // Last, as it exhausts this client's allowance: a burst beyond rateLimit * 2 gets 429s from nginx.
    const statuses = await timed(stack, 'burst (rate limit)', () => burst(stack, '/api/items', 90));
    expect(statuses.filter((status) => status === 429).length, statuses.join(' ')).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 200).length, statuses.join(' ')).toBeGreaterThanOrEqual(40);
    expect(statuses.every((status) => status === 200 || status === 429), statuses.join(' ')).toBe(true);
  }, 600_000);

  for (const id of ['routes-60', 'tls']) {
    it.concurrent(`${id}: boots healthy and passes checks 1-6`, async () => {
      const stack = byId(id);
      await booted(stack);
      expectAllPassed(await timed(stack, 'checks 1-5', () => verifyStack(stack.directory, ['health', 'routing', 'isolation', 'auth', 'secrets'])));
      expectAllPassed(await timed(stack, 'check 6 (persistence)', () => verifyStack(stack.directory, ['persistence'])));
    }, 600_000);
  }

  it.concurrent('upgrade: re-run with a new route, recreate, checks pass, secrets byte-identical', async () => {
    const stack = byId('upgrade');
    await booted(stack);
    const secretsDirectory = join(stack.directory, 'secrets');
    const before = new Map(readdirSync(secretsDirectory).map((file) => [file, readFileSync(join(secretsDirectory, file))]));
    generateStack(stack.directory, ['--routes', '/api,/admin,/v2']);
    expect(readFileSync(join(stack.directory, 'nginx/nginx.conf'), 'utf8')).toContain('location /v2/ {');
    await timed(stack, 'recreate backend+nginx', async () => {
      await recreate(stack.directory, 'backend');
      await recreate(stack.directory, 'nginx');
    });
    const results = await timed(stack, 'checks 1-6', () => verifyStack(stack.directory));
    expectAllPassed(results);
    expect(results.find((result) => result.name.startsWith('each route'))?.name).toContain('3 routes');
    for (const [file, content] of before) expect(readFileSync(join(secretsDirectory, file)).equals(content), file).toBe(true);
    expect(readdirSync(secretsDirectory).sort()).toEqual([...before.keys()].sort());
  }, 600_000);

  // vitest runs at most 5 concurrent tests (maxConcurrency): the shortest waits for a slot.
  it.concurrent('min-budgets: boots healthy and passes checks 1-6', async () => {
    const stack = byId('min-budgets');
    await booted(stack);
    expectAllPassed(await timed(stack, 'checks 1-5', () => verifyStack(stack.directory, ['health', 'routing', 'isolation', 'auth', 'secrets'])));
    expectAllPassed(await timed(stack, 'check 6 (persistence)', () => verifyStack(stack.directory, ['persistence'])));
  }, 600_000);

});
