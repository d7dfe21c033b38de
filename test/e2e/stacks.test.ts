/**
 * End to end on Docker Engine: generated stacks built and booted from their own compose.yaml by a
 * real Compose client (docker-compose 1.29, see support/docker.ts) on the private dockerd that
 * global-setup.ts starts, and checked by the shipped checks (verify/). Sized for 2
 * cores: every backend image is built before any stack boots, then at most E2E_STACKS_AT_ONCE
 * stacks (default 3) run at a time, each taken down when its test ends.
 */
import { chmodSync, chownSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planStack } from './runner/compose.js';
import { BACKEND_HEALTH_PATH, BACKEND_PORT, NGINX_HEALTH_PORT } from '../../generators/lib/contract.js';
import { readExpectedStack } from '../../verify/stack.js';
import { IMAGES } from '../../generators/lib/stack/images.js';
import { DockerComposeDriver, dockerEnv } from './support/docker.js';
import { selfTestProblems } from './support/self-test.js';
import { writeProvidedCertificate } from './support/certificates.js';
import { postsAcrossIdleGaps, send } from './support/load.js';
import { Slots } from './support/slots.js';
import {
  enginePrerequisite,
  EXAMPLE_ANSWERS,
  expectAllPassed,
  generateStack,
  removeTemporaryDirectories,
  stackDirectory,
  verifyCommand,
  verifyStack,
} from './support/stacks.js';

const enabled = enginePrerequisite('docker');
const STACKS_AT_ONCE = Number(process.env['E2E_STACKS_AT_ONCE'] ?? 3);

interface Stack {
  id: string;
  args: string[];
  directory: string;
  /** Files the user has before the first run (a provided certificate). */
  prepare?: (directory: string) => void;
  /** What the user's own account would have made of the files (this suite runs as root). */
  generated?: (directory: string) => void;
}

/** The uid of the user a developer's machine gives its first account. */
const USER_UID = 1000;

/** The TLS key as generating or bringing it as that user leaves it: theirs, readable by them alone. */
function ownKeyAsUser(path: string): void {
  chownSync(path, USER_UID, USER_UID);
  chmodSync(path, 0o400);
}

const routes60 = Array.from({ length: 60 }, (_, index) => `/r${index + 1}`).join(',');
const stacks: Stack[] = [
  // A CPU limit too, so that its key is read back from the running container like the others.
  { id: 'example', args: ['--answers', EXAMPLE_ANSWERS, '--cpus-backend', '1.5'] },
  { id: 'no-redis', args: ['--answers', EXAMPLE_ANSWERS, '--no-redis'] },
  // A high rate limit: its 2000 POSTs across idle gaps must never meet nginx's 429.
  { id: 'routes-60', args: ['--answers', EXAMPLE_ANSWERS, '--routes', routes60, '--rate-limit', '10000'] },
  {
    id: 'min-budgets',
    args: [
      '--answers',
      EXAMPLE_ANSWERS,
      '--memory-nginx',
      '16m',
      '--memory-backend',
      '128m',
      '--memory-postgres',
      '128m',
      '--memory-redis',
      '16m',
    ],
  },
  { id: 'upgrade', args: ['--answers', EXAMPLE_ANSWERS] },
  // First booted as 0.2.0 configured PostgreSQL, then upgraded and migrated (postgres/app-role.sql).
  { id: 'db-migration', args: ['--answers', EXAMPLE_ANSWERS] },
  // /health/ on the published port too (publicHealth): verify follows its redirect over HTTPS.
  {
    id: 'tls',
    args: ['--answers', EXAMPLE_ANSWERS, '--tls', 'self-signed', '--https-port', '18181', '--public-health'],
    generated: (directory: string) => ownKeyAsUser(join(directory, 'secrets/tls_key.pem')),
  },
  {
    id: 'tls-provided',
    args: [
      '--answers',
      EXAMPLE_ANSWERS,
      '--tls',
      'provided',
      '--tls-cert',
      'certs/shop.crt',
      '--tls-key',
      'certs/shop.key',
      '--https-port',
      '18182',
    ],
    prepare: (directory: string) => void writeProvidedCertificate(directory, 'shop.localhost'),
    generated: (directory: string) => ownKeyAsUser(join(directory, 'certs/shop.key')),
  },
  // Published from 18080 up, one port per stack.
].map((stack, index) => ({
  ...stack,
  args: [...stack.args, '--project-name', `e2e-${stack.id}`, '--http-port', String(18080 + index)],
  directory: '',
}));

interface InspectedContainer {
  Config: { User: string; Healthcheck?: { Test: string[] } };
  HostConfig: {
    Memory: number;
    NanoCpus: number;
    PidsLimit: number | null;
    ReadonlyRootfs: boolean;
    SecurityOpt: string[] | null;
    CapDrop: string[] | null;
    CapAdd: string[] | null;
    RestartPolicy: { Name: string };
    LogConfig: { Type: string; Config: Record<string, string> };
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

/** Bit numbers of the capabilities the stack adds back (linux/capability.h). */
const CAPABILITY_BITS: Record<string, number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  FOWNER: 3,
  SETGID: 6,
  SETUID: 7,
  NET_BIND_SERVICE: 10,
};

const timings: string[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
let driver: DockerComposeDriver;
const slots = new Slots(STACKS_AT_ONCE);

async function timed<T>(stack: Stack, phase: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    timings.push(`${stack.id.padEnd(12)} ${phase.padEnd(24)} ${seconds(Date.now() - t0)}`);
  }
}

function byId(id: string): Stack {
  const stack = stacks.find((candidate) => candidate.id === id);
  if (!stack) throw new Error(id);
  return stack;
}

/** Boots the stack in a free slot, runs `checks`, and takes it down again, whatever happened. */
function withStack(id: string, checks: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = byId(id);
  return slots.run(async () => {
    try {
      await timed(stack, 'boot (up to all healthy)', () => driver.up(stack.directory));
      await checks(stack);
    } finally {
      await timed(stack, 'down', () => driver.down(stack.directory));
    }
  });
}

async function containerOf(directory: string, service: string) {
  const container = (await driver.engine().containers(planStack(directory).project)).find(
    (candidate) => candidate.service === service && candidate.running,
  );
  if (!container) throw new Error(`no running container for ${service}`);
  return container;
}

/** Docker Compose applied every key: read back from `docker inspect` and from inside the containers. */
async function keysTookEffect(directory: string): Promise<void> {
  const plan = planStack(directory);
  const engine = driver.engine();
  const problems: string[] = [];
  for (const service of plan.services) {
    const container = await containerOf(directory, service.name);
    const [raw] = JSON.parse(
      await engine.must(['inspect', '--type', 'container', container.id]),
    ) as InspectedContainer[];
    if (!raw) throw new Error(`no container for ${service.name}`);
    const host = raw.HostConfig;
    const expectEqual = (what: string, actual: unknown, wanted: unknown) => {
      if (JSON.stringify(actual) !== JSON.stringify(wanted))
        problems.push(`${service.name} ${what}: ${JSON.stringify(actual)} != ${JSON.stringify(wanted)}`);
    };
    const caps = (list: string[] | null) => (list ?? []).map((cap) => cap.replace(/^CAP_/, '')).sort();
    expectEqual('memory', host.Memory, service.memory ? bytes(service.memory) : 0);
    expectEqual('cpus', host.NanoCpus, service.cpus ? Math.round(Number(service.cpus) * 1e9) : 0);
    expectEqual('pids_limit', host.PidsLimit, service.pidsLimit ?? null);
    expectEqual('read_only', host.ReadonlyRootfs, service.readOnly);
    expectEqual('security_opt', host.SecurityOpt, service.securityOpt);
    expectEqual('cap_drop', caps(host.CapDrop), caps(service.capDrop));
    expectEqual('cap_add', caps(host.CapAdd), caps(service.capAdd));
    expectEqual('restart', host.RestartPolicy.Name, service.restart);
    const sorted = (options: Record<string, string> | undefined) =>
      Object.entries(options ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    expectEqual(
      'logging',
      [host.LogConfig.Type, sorted(host.LogConfig.Config)],
      [service.logging?.driver, sorted(service.logging?.options)],
    );
    expectEqual('user', raw.Config.User || undefined, service.user);
    if (service.shmSize) expectEqual('shm_size', host.ShmSize, bytes(service.shmSize));
    expectEqual(
      'networks',
      Object.keys(raw.NetworkSettings.Networks).sort(),
      service.networks.map((network) => `${plan.project}_${network}`).sort(),
    );
    expectEqual('healthcheck', raw.Config.Healthcheck?.Test, service.healthcheck?.test);
    // From inside: the bounding set holds exactly the added capabilities, no_new_privs is set, and
    // every tmpfs is mounted noexec with its size (inspect misses paths behind a symlink,
    // /var/run -> /run). compose.yaml gives "path:size=12m"; /proc/mounts says "size=12288k".
    const tmpfs = service.tmpfs.map((entry) => {
      const [, path, mebibytes] = /^([^:]+):size=([1-9][0-9]*)m$/.exec(entry) ?? [];
      if (!path) problems.push(`${service.name} tmpfs ${entry} has no size in m`);
      return `${path ?? entry}=${Number(mebibytes ?? 0) * 1024}k`;
    });
    const probe = await engine.exec(container.id, [
      'sh',
      '-c',
      'grep -E "^(CapBnd|NoNewPrivs):" /proc/1/status; for e in "$@"; do r=$(readlink -f "${e%%=*}"); grep -q " $r tmpfs [^ ]*noexec[^ ]*,size=${e#*=}[, ]" /proc/mounts || echo "tmpfs-missing $e: $(grep " $r " /proc/mounts)"; done',
      'sh',
      ...tmpfs,
    ]);
    const wantedMask = service.capAdd.reduce((mask, cap) => {
      const bit = CAPABILITY_BITS[cap.replace(/^CAP_/, '')];
      if (bit === undefined) problems.push(`${service.name}: capability ${cap} is not in CAPABILITY_BITS`);
      return mask | (1n << BigInt(bit ?? 0));
    }, 0n);
    const bounding = /CapBnd:\s*([0-9a-f]+)/.exec(probe.stdout)?.[1];
    expectEqual(
      'capability bounding set',
      bounding === undefined ? 'unread' : BigInt(`0x${bounding}`).toString(16),
      wantedMask.toString(16),
    );
    expectEqual('no_new_privs', /NoNewPrivs:\s*1/.test(probe.stdout), true);
    const missingTmpfs = probe.stdout.split('\n').filter((line) => line.startsWith('tmpfs-missing'));
    if (probe.code !== 0 || missingTmpfs.length > 0)
      problems.push(
        `${service.name} tmpfs missing, without noexec or not of its size: ${missingTmpfs.join(', ') || probe.stderr.trim()}`,
      );
  }
  const [network] = JSON.parse(await engine.must(['network', 'inspect', `${plan.project}_backend-network`])) as {
    Internal: boolean;
  }[];
  if (network?.Internal !== true) problems.push('backend-network is not internal');
  expect(problems).toEqual([]);
}

/**
 * `secure-stack verify --engine docker --persistence`, the shipped command itself with its own
 * Compose client detection, on the stack: checks 1-6 must all pass. With `audit`, check 7 too:
 * the third-party scanners (testssl.sh on the HTTPS port when TLS is on) find nothing outside
 * the reviewed allow-list.
 */
async function verifyCommandPasses(directory: string, audit = false): Promise<void> {
  const { code, printed } = await verifyCommand(
    ['--engine', 'docker', '--persistence', ...(audit ? ['--audit'] : [])],
    directory,
    dockerEnv(),
  );
  expect(printed, printed).toMatch(
    /on docker; recreating through docker-compose 1\.29[\s\S]*PASS {2}6 persistence[\s\S]* passed, 0 failed/,
  );
  if (audit)
    for (const scanner of auditedScanners(directory))
      expect(printed, printed).toMatch(
        new RegExp(`PASS {2}7 audit +${scanner} \\S+: no finding outside the allow-list`),
      );
  expect(code, printed).toBe(0);
}

/** The scanners check 7 must have run on the stack in `directory`. */
function auditedScanners(directory: string): string[] {
  const tls = readExpectedStack(directory).https !== undefined;
  return ['bandit', 'shellcheck', 'yamllint', 'nginx-rules', 'dockerfile-rules', ...(tls ? ['testssl'] : [])];
}

/**
 * `count` health checks inside the backend container, then its sockets to Redis by TCP state (from
 * the container's own /proc/net/tcp; 18EB is port 6379, 01 ESTABLISHED, 06 TIME_WAIT).
 */
async function redisSocketsAfterHealthChecks(
  directory: string,
  count: number,
): Promise<{ statuses: number[]; timeWait: number; established: number }> {
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
  const result = await driver.engine().exec((await containerOf(directory, 'backend')).id, ['python', '-c', probe]);
  if (result.code !== 0) throw new Error(`health checks in the backend failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { statuses: number[]; timeWait: number; established: number };
}

/** `count` simultaneous GETs of `path` through nginx on loopback, with the stack's host name. */
function burst(stack: Stack, path: string, count: number): Promise<number[]> {
  const port = Number(stack.args[stack.args.indexOf('--http-port') + 1]);
  const one = () =>
    new Promise<number>((resolve) => {
      const request = httpRequest(
        { host: '127.0.0.1', port, path, headers: { host: 'shop.localhost' }, agent: false, timeout: 10_000 },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', () => resolve(0));
      request.on('timeout', () => request.destroy());
      request.end();
    });
  return Promise.all(Array.from({ length: count }, one));
}

const portOf = (stack: Stack) => Number(stack.args[stack.args.indexOf('--http-port') + 1]);

interface NginxState {
  restarts: number;
  oomKilled: boolean;
  running: boolean;
}

async function nginxState(directory: string): Promise<NginxState> {
  const container = await containerOf(directory, 'nginx');
  const [raw] = JSON.parse(await driver.engine().must(['inspect', '--type', 'container', container.id])) as {
    RestartCount: number;
    State: { OOMKilled: boolean; Running: boolean };
  }[];
  return { restarts: raw!.RestartCount, oomKilled: raw!.State.OOMKilled, running: raw!.State.Running };
}

/**
 * 20 concurrent 10 MB uploads from loopback while a route is asked every 250 ms from the same
 * address (the example's /health/ is not published: its answer is asked after). nginx buffers
 * bodies in its /tmp, a tmpfs charged to its memory limit: unsized, it let the uploads push nginx
 * over its limit. Sized, and one large body at a time per client, the rest get 429 and nginx
 * carries on.
 */
async function uploadsLeaveNginxStanding(stack: Stack): Promise<string> {
  const port = portOf(stack);
  const before = await nginxState(stack.directory);
  const body = Buffer.alloc(10_000_000, 0x61);
  let uploading = true;
  const polls: number[] = [];
  // Asked throughout the uploads, and at least eight times in all (nginx may refuse them quickly).
  const polling = (async () => {
    while (uploading || polls.length < 8) {
      polls.push((await send(port, 'GET', `/api/poll-${polls.length}`, undefined, 20_000)).status);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  // Slow uploads, a mebibyte every 200 ms: nginx holds them all for about two seconds.
  const uploads = await Promise.all(
    Array.from({ length: 20 }, (_, index) => send(port, 'POST', `/api/upload-${index}`, body, 60_000, 200)),
  );
  uploading = false;
  await polling;
  const after = await nginxState(stack.directory);
  const statuses = uploads.map((answer) => answer.status || answer.error);
  expect(after, JSON.stringify({ before, after, statuses })).toEqual({ ...before, oomKilled: false, running: true });
  // One large body at a time per client (as many as nginx's /tmp holds, here one): the others get
  // 429 before a byte is buffered (or the connection closed on them while still sending); the one
  // nginx buffered reaches Django (403: no CSRF token), or 500 if /tmp could not hold it. Never a
  // 502, never a lost nginx.
  expect(
    statuses.every(
      (status) => status === 403 || status === 429 || status === 500 || status === 'EPIPE' || status === 'ECONNRESET',
    ),
    statuses.join(' '),
  ).toBe(true);
  expect(statuses.filter((status) => status === 403 || status === 500).length, statuses.join(' ')).toBeLessThanOrEqual(
    1,
  );
  expect(statuses.filter((status) => status === 429).length, statuses.join(' ')).toBeGreaterThan(0);
  expect(polls.length).toBeGreaterThanOrEqual(8);
  expect(
    polls.every((status) => status === 200),
    polls.join(' '),
  ).toBe(true);
  const health = await driver
    .engine()
    .exec((await containerOf(stack.directory, 'nginx')).id, [
      'curl',
      '--silent',
      '--fail',
      `http://127.0.0.1:${NGINX_HEALTH_PORT}${BACKEND_HEALTH_PATH}`,
    ]);
  expect(health.code, health.stderr).toBe(0);
  expect(JSON.parse(health.stdout)).toMatchObject({ database: 'ok', redis: 'ok' });
  return `uploads ${statuses.join(' ')}; /api/poll-N ${polls.length}x 200; /health/ ok`;
}

/** psql inside the postgres container over its socket, where the image trusts every role. */
async function psqlLocal(directory: string, role: string, sql: string): Promise<string> {
  const postgres = await containerOf(directory, 'postgres');
  const { dbName } = readExpectedStack(directory);
  const result = await driver
    .engine()
    .exec(postgres.id, ['psql', '-X', '-v', 'ON_ERROR_STOP=1', '--username', role, '--dbname', dbName, '-tAc', sql]);
  if (result.code !== 0) throw new Error(`psql as ${role}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/**
 * A stack that generator-secure-stack 0.2.0 made: PostgreSQL initialised with the backend's role
 * as POSTGRES_USER (the superuser) and its password, no owner role, no roles script. Booted so,
 * with a table the backend made in public; then the upgraded compose.yaml; then the documented
 * migration, run once.
 */
async function dbMigrationFromSuperuser(stack: Stack): Promise<void> {
  const composePath = join(stack.directory, 'compose.yaml');
  const upgraded = readFileSync(composePath, 'utf8');
  const { dbUser } = readExpectedStack(stack.directory);
  const asOld = upgraded
    .replace('POSTGRES_USER: "db_owner"', `POSTGRES_USER: "${dbUser}"`)
    .replace(
      'POSTGRES_PASSWORD_FILE: "/run/secrets/db_owner_password"',
      'POSTGRES_PASSWORD_FILE: "/run/secrets/db_password"',
    )
    .replace(/^\s*- "\.\/postgres\/app-role\.sql:[^"]*"\n/m, '');
  expect(asOld).not.toBe(upgraded);
  expect(asOld).not.toContain('app-role.sql');
  writeFileSync(composePath, asOld);
  await timed(stack, 'boot as 0.2.0', () => driver.up(stack.directory));
  const flags = 'select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user';
  expect(await psqlLocal(stack.directory, dbUser, flags)).toBe('t|t|t');
  expect(await psqlLocal(stack.directory, dbUser, "select count(*) from pg_roles where rolname = 'db_owner'")).toBe(
    '0',
  );
  await psqlLocal(
    stack.directory,
    dbUser,
    'create table public.made_by_0_2_0 (id int); insert into public.made_by_0_2_0 values (1)',
  );

  // The upgraded compose.yaml: PostgreSQL gets the owner's secret and the script, the data stays.
  writeFileSync(composePath, upgraded);
  await timed(stack, 'up with the upgrade', () => driver.up(stack.directory));
  expect(await psqlLocal(stack.directory, dbUser, flags), 'the backend keeps its role until the migration').toBe(
    't|t|t',
  );
  const postgres = await containerOf(stack.directory, 'postgres');
  const { dbName } = readExpectedStack(stack.directory);
  // The command README.md gives.
  const migration = await driver
    .engine()
    .exec(postgres.id, [
      'psql',
      '-v',
      'ON_ERROR_STOP=1',
      '--username',
      dbUser,
      '--dbname',
      dbName,
      '--file',
      '/docker-entrypoint-initdb.d/10-app-role.sql',
    ]);
  expect(migration.code, migration.stderr).toBe(0);
  expect(await psqlLocal(stack.directory, dbUser, flags)).toBe('f|f|f');
  // The old superuser is retired, not demoted (PostgreSQL 16 and later refuse that for the role a
  // data directory was created with): renamed, no login, no password.
  expect(
    await psqlLocal(
      stack.directory,
      'db_owner',
      `select rolsuper, rolcanlogin, rolpassword is null from pg_authid where rolname = '${dbUser}_retired'`,
    ),
  ).toBe('t|f|t');
  expect(
    await psqlLocal(
      stack.directory,
      'db_owner',
      `select pg_get_userbyid(datdba) from pg_database where datname = current_database()`,
    ),
  ).toBe('db_owner');
  // The backend's old table is still its own; it may add rows and tables.
  await psqlLocal(stack.directory, dbUser, 'insert into public.made_by_0_2_0 values (2)');
  expect(await psqlLocal(stack.directory, dbUser, 'select count(*) from public.made_by_0_2_0')).toBe('2');
  await psqlLocal(stack.directory, dbUser, 'create table public.made_after (id int); drop table public.made_after');
  // Checks 1-6, the role's rows among them; and the backend, restarted as README.md says, logs in with its unchanged password.
  await driver.recreate(stack.directory, 'backend');
  await driver.recreate(stack.directory, 'nginx');
  await timed(stack, 'verify --persistence', () => verifyCommandPasses(stack.directory));
}

const CHECKS_1_TO_5 = ['health', 'routing', 'isolation', 'auth', 'secrets'] as const;

describe.runIf(enabled)('e2e: generated stacks on Docker Engine, booted by docker-compose', () => {
  const t0 = Date.now();
  beforeAll(async () => {
    driver = await DockerComposeDriver.create();
    timings.push(`Compose client: ${driver.client}`);
    // Every image is built before any stack boots, one at a time (the layers they share are cached).
    for (const stack of stacks) {
      stack.directory = stackDirectory(stack.id);
      stack.prepare?.(stack.directory);
      generateStack(stack.directory, stack.args);
      stack.generated?.(stack.directory);
      await timed(stack, 'build', () => driver.build(stack.directory));
    }
  }, 900_000);

  afterAll(async () => {
    await slots.idle();
    for (const stack of stacks) if (stack.directory) await driver.down(stack.directory).catch(() => undefined);
    removeTemporaryDirectories();
    timings.push(`${'all'.padEnd(12)} ${'total (build to down)'.padEnd(24)} ${seconds(Date.now() - t0)}`);
    console.log(`[e2e docker] timings\n${timings.join('\n')}`);
  }, 300_000);

  it.concurrent(
    'no-redis: passes checks 1-6; self-test: deliberately broken, it is reported as failing',
    () =>
      withStack('no-redis', async (stack) => {
        await timed(stack, 'verify --persistence --audit', () => verifyCommandPasses(stack.directory, true));
        const problems = await selfTestProblems(driver, stack.directory, (phase, work) => timed(stack, phase, work));
        expect(problems).toEqual([]);
      }),
    900_000,
  );

  it.concurrent(
    'example: boots healthy, every compose.yaml key took effect, `verify --persistence` passes',
    () =>
      withStack('example', async (stack) => {
        await timed(stack, 'keys took effect', () => keysTookEffect(stack.directory));
        // The health view reuses its Redis connections: a connection per check would leave 60 sockets
        // in TIME_WAIT, and a flood of checks would use up the backend's ephemeral ports.
        const sockets = await timed(stack, 'health checks (Redis)', () =>
          redisSocketsAfterHealthChecks(stack.directory, 60),
        );
        expect(sockets.statuses).toEqual([200]);
        expect(sockets.timeWait, JSON.stringify(sockets)).toBeLessThan(5);
        expect(sockets.established, JSON.stringify(sockets)).toBeGreaterThan(0);
        // Checks 1-7: check 6 recreates PostgreSQL and Redis through docker-compose.
        await timed(stack, 'verify --persistence --audit', () => verifyCommandPasses(stack.directory, true));
        // The connections the workers kept from before are stale, and each worker's first check
        // replaces them (several checks, to reach several workers).
        expect((await redisSocketsAfterHealthChecks(stack.directory, 8)).statuses).toEqual([200]);
        timings.push(
          `example      ${await timed(stack, 'uploads (entry limits)', () => uploadsLeaveNginxStanding(stack))}`,
        );
        // The uploads and the /health/ polls took from this client's allowance: let it refill (rateLimit 20/s, burst 40).
        await new Promise((resolve) => setTimeout(resolve, 3000));
        // Last, as it exhausts this client's allowance: a burst beyond rateLimit * 2 gets 429s from nginx.
        const statuses = await timed(stack, 'burst (rate limit)', () => burst(stack, '/api/items', 90));
        expect(statuses.filter((status) => status === 429).length, statuses.join(' ')).toBeGreaterThan(0);
        expect(statuses.filter((status) => status === 200).length, statuses.join(' ')).toBeGreaterThanOrEqual(40);
        expect(
          statuses.every((status) => status === 200 || status === 429),
          statuses.join(' '),
        ).toBe(true);
      }),
    900_000,
  );

  it.concurrent(
    'min-budgets: boots healthy and `verify --persistence` passes',
    () =>
      withStack('min-budgets', async (stack) => {
        await timed(stack, 'verify --persistence', () => verifyCommandPasses(stack.directory));
      }),
    900_000,
  );

  it.concurrent(
    'routes-60: boots healthy and `verify --persistence` passes; 2000 POSTs across idle gaps get no 502',
    () =>
      withStack('routes-60', async (stack) => {
        await timed(stack, 'verify --persistence', () => verifyCommandPasses(stack.directory));
        // Idle gaps around gunicorn's keep-alive (5 s; its default was 2 s) and nginx's upstream
        // keepalive_timeout (4 s): a connection gunicorn closes just as nginx reuses it fails a POST,
        // which nginx cannot retry, with 502. nginx must always be the one to close first.
        const counts = await timed(stack, '2000 POSTs, idle gaps', () =>
          postsAcrossIdleGaps(portOf(stack), '/r1', {
            total: 2000,
            perBurst: 100,
            concurrency: 10,
            gapsMs: [1800, 2000, 2200, 2500, 3000, 3500, 4000, 4500, 5000, 5500],
          }),
        );
        // Django refuses a POST without a CSRF token (403): every one of them reached it.
        expect(Object.fromEntries(counts)).toEqual({ 403: 2000 });
      }),
    900_000,
  );

  // testssl.sh judges the HTTPS port: TLS 1.2 and 1.3 offered, nothing older, no weak suite, forward
  // secrecy, HSTS, none of the vulnerabilities it knows (generators/lib/audit/testssl.ts).
  for (const id of ['tls', 'tls-provided']) {
    it.concurrent(
      `${id}: boots healthy and \`verify --persistence --audit\` passes, testssl.sh included`,
      () =>
        withStack(id, async (stack) => {
          // verify's check 5 includes: nginx's master reads the key, its worker user cannot.
          await timed(stack, 'verify --persistence --audit', () => verifyCommandPasses(stack.directory, true));
          // The control: it is DAC_OVERRIDE that lets the master (root) read the user's 0400 key.
          const key = readExpectedStack(stack.directory).secretFiles['tls_key']!;
          expect(statSync(key).uid).toBe(USER_UID);
          expect(statSync(key).mode & 0o777).toBe(0o400);
          const readKey = (capabilities: string[]) =>
            driver
              .engine()
              .run([
                'run',
                '--rm',
                '--network',
                'none',
                '--cap-drop',
                'ALL',
                ...capabilities.flatMap((capability) => ['--cap-add', capability]),
                '--volume',
                `${key}:/run/secrets/tls_key:ro`,
                '--entrypoint',
                'cat',
                IMAGES.nginx,
                '/run/secrets/tls_key',
              ]);
          const without = await readKey(['CHOWN', 'SETGID', 'SETUID']);
          expect(without.code, without.stdout).not.toBe(0);
          expect(without.stderr).toMatch(/Permission denied/);
          const granted = await readKey(['CHOWN', 'SETGID', 'SETUID', 'DAC_OVERRIDE']);
          expect(granted.code, granted.stderr).toBe(0);
          expect(granted.stdout).toBe(readFileSync(key, 'utf8'));
        }),
      900_000,
    );
  }

  it.concurrent(
    'db-migration: a stack whose backend role was the superuser (0.2.0) keeps working after the upgrade; the documented migration takes the superuser away, data kept',
    () =>
      slots.run(async () => {
        const stack = byId('db-migration');
        try {
          await dbMigrationFromSuperuser(stack);
        } finally {
          await timed(stack, 'down', () => driver.down(stack.directory));
        }
      }),
    900_000,
  );

  it.concurrent(
    'upgrade: re-run with a new route, rebuild and recreate, checks pass, secrets byte-identical',
    () =>
      withStack('upgrade', async (stack) => {
        const secretsDirectory = join(stack.directory, 'secrets');
        const before = new Map(
          readdirSync(secretsDirectory).map((file) => [file, readFileSync(join(secretsDirectory, file))]),
        );
        generateStack(stack.directory, ['--routes', '/api,/admin,/v2']);
        expect(readFileSync(join(stack.directory, 'nginx/nginx.conf'), 'utf8')).toContain('location /v2/ {');
        await timed(stack, 'rebuild, recreate', async () => {
          await driver.build(stack.directory);
          await driver.recreate(stack.directory, 'backend');
          await driver.recreate(stack.directory, 'nginx');
          await driver.recreate(stack.directory, 'nginx');
        });
        const results = await timed(stack, 'checks 1-5', () =>
          verifyStack(driver, stack.directory, [...CHECKS_1_TO_5]),
        );
        expectAllPassed(results);
        expect(results.find((result) => result.name.startsWith('each route'))?.name).toContain('3 routes');
        await timed(stack, 'verify --persistence', () => verifyCommandPasses(stack.directory));
        for (const [file, content] of before)
          expect(readFileSync(join(secretsDirectory, file)).equals(content), file).toBe(true);
        expect(readdirSync(secretsDirectory).sort()).toEqual([...before.keys()].sort());
      }),
    900_000,
  );
});
