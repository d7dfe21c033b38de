/**
 * Docker Swarm for the e2e tests (GitHub issue #17): the private dockerd of engine/dockerd.sh as
 * the manager, a second dockerd in a network namespace of its own as the worker (engine/swarm.sh
 * makes both; engine/README.md has the layout), and stacks deployed with `docker stack deploy`
 * (Debian's client 20.10). Anything the client says it ignored fails the deploy. dockerd must be
 * running (global-setup.ts); `dockerd.sh stop` and `clean` leave any swarm, so a run that used one
 * leaves nothing and the next starts without one.
 *
 * This kernel has no IPVS: stacks must use `endpoint_mode: dnsrr` and `mode: host` published ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runProcess, type ExecResult } from '../../../verify/engine.js';
import { dockerEnv } from './docker.js';

const ENGINE_DIR = new URL('../engine/', import.meta.url).pathname;
const SWARM_SCRIPT = `${ENGINE_DIR}swarm.sh`;
/** Debian's client (20.10, the daemons' own version): another docker may come first on PATH. */
const DOCKER = '/usr/bin/docker';

/** The worker's node name (its own host name, set by swarm.sh through `unshare --uts`). */
export const WORKER_HOSTNAME = 'sse-e2e-worker';
/** The label swarm.sh puts on the manager: stateful services are placed with `node.labels.secure-stack.data == true`. */
export const DATA_NODE_LABEL = 'secure-stack.data';
/** The label Docker puts on every service, network, secret and container of a stack. */
export const STACK_LABEL = 'com.docker.stack.namespace';

/** The environment of the worker's dockerd: the manager's, with the worker's DOCKER_HOST. */
export function workerEnv(): NodeJS.ProcessEnv {
  const runDirectory = dockerEnv()['SSE_RUN_DIR'] ?? '/run/secure-stack-e2e';
  return { ...dockerEnv(), DOCKER_HOST: `unix://${runDirectory}/worker/docker.sock` };
}

async function swarmScript(args: string[], timeoutMs: number): Promise<void> {
  const result = await runProcess(SWARM_SCRIPT, args, { env: dockerEnv(), timeoutMs });
  if (result.code !== 0)
    throw new Error(`swarm.sh ${args.join(' ')} failed (${result.code}): ${(result.stderr + result.stdout).trim()}`);
}

function docker(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return runProcess(DOCKER, args, {
    env: options.env ?? dockerEnv(),
    cwd: options.cwd,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}

async function mustDocker(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0)
    throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/**
 * `docker inspect` of several objects, without those removed since they were listed (a task
 * pruned from the history, a container Swarm replaced): docker prints the others and exits 1.
 */
async function inspectExisting<T>(type: 'task' | 'container', ids: string[], env?: NodeJS.ProcessEnv): Promise<T[]> {
  const result = await docker(['inspect', '--type', type, ...ids], { env });
  const errors = result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^Error: No such (?:task|container|object): /.test(line.trim()));
  if (result.code !== 0 && (errors.length > 0 || !result.stdout.trim().startsWith('['))) {
    throw new Error(
      `docker inspect --type ${type} ${ids.join(' ')} failed (${result.code}): ${(result.stderr || result.stdout).trim()}`,
    );
  }
  return JSON.parse(result.stdout) as T[];
}

/** One JSON document a line, as `--format '{{json .}}'` prints them. */
function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The manager: `swarm init` on the private dockerd (heartbeat 2 s), labelled secure-stack.data=true. Idempotent. */
export async function initSwarm(): Promise<void> {
  await swarmScript(['init'], 60_000);
}

/**
 * Starts the worker (netns, its dockerd), copies `images` from the manager where it lacks them
 * (`docker save | docker load`; none given: the stand-ins and every `*-backend` image) and joins
 * it; returns when the manager sees it Ready. Also brings back a worker stopped by
 * `stopWorkerEngine`, which rejoins as the same node.
 */
export async function startWorker(images: string[]): Promise<void> {
  await swarmScript(['worker-start', ...images], 600_000);
}

/** Stops the worker's dockerd without leaving the swarm, as a failing node: its tasks stop with it. */
export async function stopWorkerEngine(): Promise<void> {
  await swarmScript(['worker-stop'], 90_000);
}

/** Stops the worker, removes its node from the swarm, and deletes its netns, veth pair and run dirs (its images stay cached). */
export async function removeWorker(): Promise<void> {
  await swarmScript(['worker-clean'], 90_000);
}

/** The manager leaves the swarm (`--force`), then everything of the worker goes (removeWorker). */
export async function leaveSwarm(): Promise<void> {
  await swarmScript(['leave'], 120_000);
}

/**
 * One test file at a time uses the swarm (vitest may run files side by side): useSwarm waits for
 * `$SSE_RUN_DIR/swarm.lock` (held by a child process until releaseSwarm, or until the run ends
 * however it ends), then initSwarm. releaseSwarm leaves the swarm (leaveSwarm), then lets the next
 * file in. A file that uses the swarm calls these in beforeAll/afterAll.
 */
let swarmLockHolder: ChildProcess | undefined;
export async function useSwarm(): Promise<void> {
  const lock = `${dockerEnv()['SSE_RUN_DIR'] ?? '/run/secure-stack-e2e'}/swarm.lock`;
  if (swarmLockHolder) throw new Error('useSwarm: this file already holds the swarm');
  const holder = spawn('flock', ['--exclusive', lock, 'sh', '-c', 'echo locked; exec cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  swarmLockHolder = holder;
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`flock ${lock} exited (${code})`)));
  });
  try {
    await initSwarm();
  } catch (error) {
    await releaseSwarm();
    throw error;
  }
}

export async function releaseSwarm(): Promise<void> {
  try {
    await leaveSwarm();
  } finally {
    const holder = swarmLockHolder;
    swarmLockHolder = undefined;
    if (holder && holder.exitCode === null) {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.stdin?.end();
      await exited;
    }
  }
}

export interface DeployOptions {
  /** The stack file, relative to the directory (default stack.yaml). */
  file?: string;
  /** Lines the client may print that would otherwise fail the deploy. */
  allow?: RegExp[];
  timeoutMs?: number;
}

/**
 * `docker stack deploy -c stack.yaml --prune --resolve-image never NAME` in `directory` (relative
 * paths in the file are resolved there). `env` is added to the client's environment, for the
 * file's `${VARIABLES}`. `--resolve-image never`: no registry is reachable, and each node runs the
 * image it has (startWorker copies them). Fails on anything it says it ignored (ignoredLines)
 * unless `options.allow` matches that line; the client deploys the stack all the same, so the
 * caller still removes it. Returns what the client printed.
 */
export async function deployStack(
  directory: string,
  stackName: string,
  env: Record<string, string> = {},
  options: DeployOptions = {},
): Promise<string> {
  const file = options.file ?? 'stack.yaml';
  const result = await docker(
    ['stack', 'deploy', '--compose-file', file, '--prune', '--resolve-image', 'never', stackName],
    {
      env: { ...dockerEnv(), ...env },
      cwd: directory,
      timeoutMs: options.timeoutMs ?? 120_000,
    },
  );
  const printed = `${result.stdout}${result.stderr}`;
  if (result.code !== 0)
    throw new Error(`docker stack deploy ${stackName} failed (${result.code}):\n${printed.trim()}`);
  const refused = ignoredLines(printed).filter((line) => !(options.allow ?? []).some((pattern) => pattern.test(line)));
  if (refused.length > 0)
    throw new Error(
      `docker stack deploy ${stackName} did not apply everything (the stack is deployed all the same):\n${refused.join('\n')}`,
    );
  return printed;
}

/**
 * What `docker stack deploy` says it did not apply, a line each: "Ignoring unsupported options:
 * build, …", each key of its "Ignoring deprecated options:" block as "Ignoring deprecated option
 * KEY: why", and any WARNING.
 */
export function ignoredLines(printed: string): string[] {
  const found: string[] = [];
  let deprecatedBlock = false;
  for (const line of printed.split('\n').map((text) => text.trim())) {
    if (line === '') continue;
    if (/^Ignoring deprecated options:$/.test(line)) {
      deprecatedBlock = true;
      continue;
    }
    if (deprecatedBlock && /^[\w.-]+: /.test(line)) {
      found.push(`Ignoring deprecated option ${line}`);
      continue;
    }
    deprecatedBlock = false;
    if (/Ignoring unsupported options|\bWARN(ING)?\b/i.test(line)) found.push(line);
  }
  return found;
}

/** The engines that may hold a stack's containers: the manager, and the worker while its dockerd answers. */
async function engines(): Promise<NodeJS.ProcessEnv[]> {
  const worker = workerEnv();
  const answers =
    (await docker(['version', '--format', '{{.Server.Version}}'], { env: worker, timeoutMs: 10_000 })).code === 0;
  return answers ? [dockerEnv(), worker] : [dockerEnv()];
}

/**
 * `docker stack rm NAME` (again while something is left), until its services, networks and
 * containers (on every node that answers) are gone; then removes its volumes there (stack rm
 * keeps them) unless `keepVolumes`.
 */
export async function removeStack(
  stackName: string,
  options: { timeoutMs?: number; keepVolumes?: boolean } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const ids = async (args: string[], env?: NodeJS.ProcessEnv) =>
    (await mustDocker([...args, '--filter', `label=${STACK_LABEL}=${stackName}`], { env }))
      .split(/\s+/)
      .filter(Boolean);
  let refused = '';
  for (let round = 0; ; round += 1) {
    const services = await ids(['service', 'ls', '-q']);
    const networks = await ids(['network', 'ls', '-q']);
    // stack rm removes the services, then the networks; a network still held by a task shutting
    // down (or by the task of a node gone down) fails it ("network … is in use by task …"), so it
    // is asked again, every 2 s, until both are gone.
    if ((services.length > 0 || networks.length > 0) && round % 4 === 0) {
      const result = await docker(['stack', 'rm', stackName]);
      refused = result.code === 0 ? '' : (result.stderr || result.stdout).trim();
    }
    const containers: string[] = [];
    for (const env of await engines()) containers.push(...(await ids(['ps', '-aq'], env)));
    const left = [...services, ...networks, ...containers];
    if (left.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `stack ${stackName}: services, networks or containers left ${timeoutMs / 1000} s after stack rm: ${left.join(' ')}${refused ? `\n${refused}` : ''}`,
      );
    await sleep(500);
  }
  if (options.keepVolumes) return;
  for (const env of await engines()) {
    const volumes = (await mustDocker(['volume', 'ls', '-q', '--filter', `label=${STACK_LABEL}=${stackName}`], { env }))
      .split(/\s+/)
      .filter(Boolean);
    if (volumes.length > 0) await mustDocker(['volume', 'rm', ...volumes], { env });
  }
}

export interface ServiceState {
  /** The full name, STACK_SERVICE. */
  name: string;
  /** replicated | global */
  mode: string;
  /** Tasks Swarm wants running that run, on nodes not down; and how many it wants. */
  running: number;
  desired: number;
}

interface RawServiceLine {
  Name: string;
  Mode: string;
  Replicas: string;
}

/**
 * The stack's services: how many tasks each wants (`docker service ls`), and how many of those
 * run on a node that is not down. Not service ls's own count: it still counts the task of a node
 * gone down ("3/2") until that node comes back. A task with a healthcheck runs once it passed.
 */
export async function services(stackName: string): Promise<ServiceState[]> {
  const lines = jsonLines<RawServiceLine>(
    await mustDocker(['service', 'ls', '--filter', `label=${STACK_LABEL}=${stackName}`, '--format', '{{json .}}']),
  );
  if (lines.length === 0) return [];
  const names = lines.map((line) => line.Name);
  const ids = (await mustDocker(['service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', ...names]))
    .split(/\s+/)
    .filter(Boolean);
  const tasks =
    ids.length === 0 ? [] : (JSON.parse(await mustDocker(['inspect', '--type', 'task', ...ids])) as RawTask[]);
  const serviceNames = new Map(
    (await mustDocker(['service', 'inspect', '--format', '{{.ID}} {{.Spec.Name}}', ...names]))
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string])
      .map(([id, name]) => [id, name]),
  );
  const down = new Set((await nodeList()).filter((node) => node.state !== 'ready').map((node) => node.id));
  return lines.map((line) => {
    // "1/1", "2/2 (max 1 per node)"
    const [, desired = '-1'] = /^\d+\/(\d+)/.exec(line.Replicas) ?? [];
    const running = tasks.filter(
      (task) =>
        serviceNames.get(task.ServiceID) === line.Name &&
        task.Status.State === 'running' &&
        !down.has(task.NodeID ?? ''),
    ).length;
    return { name: line.Name, mode: line.Mode, running, desired: Number(desired) };
  });
}

export interface StackContainer {
  id: string;
  name: string;
  /** The engine it runs on: "manager" or "worker". */
  engine: 'manager' | 'worker';
  running: boolean;
  /** healthy | unhealthy | starting | none */
  health: string;
}

/** Every container of the stack on each engine that answers (a stopped worker's are not seen). */
export async function stackContainers(stackName: string): Promise<StackContainer[]> {
  const found: StackContainer[] = [];
  for (const env of await engines()) {
    const engine = env === dockerEnv() ? 'manager' : 'worker';
    const ids = (await mustDocker(['ps', '-aq', '--filter', `label=${STACK_LABEL}=${stackName}`], { env }))
      .split(/\s+/)
      .filter(Boolean);
    if (ids.length === 0) continue;
    const raw = await inspectExisting<{
      Id: string;
      Name: string;
      State: { Running: boolean; Health?: { Status?: string } };
    }>('container', ids, env);
    for (const container of raw) {
      found.push({
        id: container.Id,
        name: container.Name.replace(/^\//, ''),
        engine,
        running: container.State.Running,
        health: container.State.Health?.Status ?? 'none',
      });
    }
  }
  return found;
}

/**
 * Waits until every service of the stack runs as many tasks as it wants and every running
 * container of the stack (on the engines that answer) is healthy or has no healthcheck. Swarm
 * counts a task with a healthcheck as running only once it passed. Returns the services.
 */
export async function waitConverged(stackName: string, options: { timeoutMs?: number } = {}): Promise<ServiceState[]> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await services(stackName);
    const containers = await stackContainers(stackName);
    const short = state.filter((service) => service.running !== service.desired);
    const unhealthy = containers.filter(
      (container) => container.running && container.health !== 'healthy' && container.health !== 'none',
    );
    if (state.length > 0 && short.length === 0 && unhealthy.length === 0) return state;
    if (Date.now() > deadline) {
      const tasks = await Promise.all(
        short.map(
          async (service) =>
            `--- ${service.name} ${service.running}/${service.desired}\n${(await docker(['service', 'ps', '--no-trunc', service.name])).stdout}`,
        ),
      );
      throw new Error(
        `stack ${stackName} did not converge within ${timeoutMs / 1000} s` +
          `${state.length === 0 ? ': no services' : ''}\n${tasks.join('\n')}` +
          `${unhealthy.map((container) => `\n${container.name} on the ${container.engine}: ${container.health}`).join('')}`,
      );
    }
    await sleep(1000);
  }
}

export interface SwarmNode {
  id: string;
  hostname: string;
  /** ready | down | unknown | disconnected */
  state: string;
  /** active | pause | drain */
  availability: string;
  role: 'manager' | 'worker';
  /** The address the node is reached at. */
  address: string;
  labels: Record<string, string>;
}

interface RawNode {
  ID: string;
  Spec: { Role: 'manager' | 'worker'; Availability: string; Labels?: Record<string, string> | null };
  Description: { Hostname: string };
  Status: { State: string; Addr?: string };
}

/** The swarm's nodes as the manager sees them. */
export async function nodeList(): Promise<SwarmNode[]> {
  const ids = (await mustDocker(['node', 'ls', '-q'])).split(/\s+/).filter(Boolean);
  if (ids.length === 0) return [];
  const raw = JSON.parse(await mustDocker(['node', 'inspect', ...ids])) as RawNode[];
  return raw.map((node) => ({
    id: node.ID,
    hostname: node.Description.Hostname,
    state: node.Status.State,
    availability: node.Spec.Availability,
    role: node.Spec.Role,
    address: node.Status.Addr ?? '',
    labels: node.Spec.Labels ?? {},
  }));
}

export interface ServiceTask {
  id: string;
  /** The node's host name ("" when the node is gone), and its id. */
  node: string;
  nodeId: string;
  /** What Swarm wants (running, shutdown…) and where the task is (new … starting, running, failed, shutdown…). */
  desiredState: string;
  state: string;
  /** The container's id once it has one. */
  containerId: string;
  error: string;
  createdAt: string;
}

interface RawTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  DesiredState: string;
  CreatedAt: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
}

/** The tasks of STACK_SERVICE, newest first, the ones Swarm has given up on included (see desiredState). */
export async function serviceTasks(stackName: string, service: string): Promise<ServiceTask[]> {
  const ids = (await mustDocker(['service', 'ps', '-q', '--no-trunc', `${stackName}_${service}`]))
    .split(/\s+/)
    .filter(Boolean);
  if (ids.length === 0) return [];
  const raw = await inspectExisting<RawTask>('task', ids);
  const names = new Map((await nodeList()).map((node) => [node.id, node.hostname]));
  return raw
    .map((task) => ({
      id: task.ID,
      node: names.get(task.NodeID ?? '') ?? '',
      nodeId: task.NodeID ?? '',
      desiredState: task.DesiredState,
      state: task.Status.State,
      containerId: task.Status.ContainerStatus?.ContainerID ?? '',
      error: task.Status.Err ?? '',
      createdAt: task.CreatedAt,
    }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * The images a stack file names (`image:` of each service), each once, for startWorker: the
 * stack's stack.yaml, or its compose.yaml when it has none. `${NAME}`, `${NAME:-default}` and
 * `${NAME-default}` are resolved from `env` as `docker stack deploy` would with that environment.
 */
export function stackImages(directory: string, env: Record<string, string> = {}, file?: string): string[] {
  const path = join(directory, file ?? (existsSync(join(directory, 'stack.yaml')) ? 'stack.yaml' : 'compose.yaml'));
  const parsed = parse(readFileSync(path, 'utf8')) as { services?: Record<string, { image?: unknown } | null> } | null;
  const images = Object.values(parsed?.services ?? {})
    .flatMap((service) => (typeof service?.image === 'string' ? [interpolate(service.image, env)] : []))
    .filter(Boolean);
  return [...new Set(images)];
}

function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)(?:(:?)-([^}]*))?\}/g,
    (_whole, name: string, colon: string | undefined, fallback: string | undefined) => {
      const value = env[name];
      if (fallback === undefined) return value ?? '';
      return value === undefined || (colon === ':' && value === '') ? fallback : value;
    },
  );
}
