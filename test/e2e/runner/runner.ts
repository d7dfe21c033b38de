/**
 * Starts a generated stack in rootful podman from its own compose.yaml, as Docker Compose would:
 * project-prefixed names and Compose labels, networks (internal: true -> --internal), named
 * volumes, file secrets as read-only binds at /run/secrets/<name>, images built with
 * `podman build --network none`, and depends_on: service_healthy honoured.
 *
 * Healthchecks: podman 4.3 schedules them with systemd timers, which this machine lacks, so the
 * runner runs `podman healthcheck run` itself: every second while a container is inside its
 * start_period (a pass ends the start period, as in Docker; failures there do not count), then
 * every `interval`, until the stack is taken down. Polling faster during start-up only finds a
 * healthy container sooner; podman applies retries/start_period to the results.
 *
 * Images by digest: podman cannot give a local image a registry's digest (`podman tag` refuses
 * one), so the local stand-ins answer to their tag only. The runner runs `name:tag` for
 * `name:tag@sha256:...`, and builds with `--from` the tag of a digest-pinned first FROM; the
 * Docker Engine tests run the digests themselves (engine/dockerd.sh digests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../../verify/engine.js';
import { planStack, type ServicePlan, type StackPlan } from './compose.js';

const ENGINE_DIR = new URL('../engine/', import.meta.url).pathname;

let podmanEnvironment: NodeJS.ProcessEnv | undefined;
/** The environment podman-env.sh exports (the project's own podman configuration). */
export function podmanEnv(): NodeJS.ProcessEnv {
  if (!podmanEnvironment) {
    const output = execFileSync('bash', ['-c', `. "${ENGINE_DIR}podman-env.sh" >&2 && env -0`], { encoding: 'utf8' });
    podmanEnvironment = Object.fromEntries(
      output
        .split('\0')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }
  return podmanEnvironment;
}

export function podman(): Engine {
  return new Engine('podman', podmanEnv());
}

export const containerName = (project: string, service: string) => `${project}-${service}-1`;
const networkName = (project: string, network: string) => `${project}_${network}`;
const volumeName = (project: string, volume: string) => `${project}_${volume}`;

interface Monitor {
  stop: () => void;
}

/** Projects this process has started, for the signal handlers and afterAll. */
const active = new Map<string, { directory: string; monitors: Map<string, Monitor> }>();

export interface UpOptions {
  /** Stop waiting for a service to become healthy after this long (default: its own retries). */
  healthDeadlineMs?: number;
  /** Report unhealthy dependencies instead of throwing; dependents of one are not started (as Compose). */
  tolerateUnhealthy?: boolean;
}

export interface UpResult {
  project: string;
  /** Services that did not become healthy (and were not waited for further). */
  unhealthy: string[];
  /** Services not started because a dependency was not healthy. */
  notStarted: string[];
  timings: Record<string, number>;
}

export async function up(directory: string, options: UpOptions = {}): Promise<UpResult> {
  const plan = planStack(directory);
  const engine = podman();
  const labels = (extra: string[] = []) =>
    [...extra, `com.docker.compose.project=${plan.project}`].flatMap((label) => ['--label', label]);
  const state = active.get(plan.project) ?? { directory, monitors: new Map<string, Monitor>() };
  active.set(plan.project, state);
  installSignalHandlers();

  for (const network of plan.networks) {
    const name = networkName(plan.project, network.name);
    if ((await engine.run(['network', 'exists', name])).code === 0) continue;
    await engine.must([
      'network',
      'create',
      '--driver',
      network.driver,
      ...(network.internal ? ['--internal'] : []),
      ...labels([`com.docker.compose.network=${network.name}`]),
      name,
    ]);
  }
  for (const volume of plan.volumes) {
    const name = volumeName(plan.project, volume);
    if ((await engine.run(['volume', 'exists', name])).code === 0) continue;
    await engine.must(['volume', 'create', ...labels([`com.docker.compose.volume=${volume}`]), name]);
  }
  await Promise.all(
    plan.services.filter((service) => service.buildContext).map((service) => build(engine, plan, service)),
  );

  const result: UpResult = { project: plan.project, unhealthy: [], notStarted: [], timings: {} };
  const started = new Map<string, Promise<boolean>>();
  const t0 = Date.now();
  const start = (service: ServicePlan): Promise<boolean> => {
    let promise = started.get(service.name);
    if (!promise) {
      promise = (async () => {
        const ready = await Promise.all(
          service.dependsOn.map(async (dependency) => {
            const target = plan.services.find((s) => s.name === dependency.service);
            if (!target) return false;
            const healthy = await start(target);
            return dependency.condition === 'service_started' || healthy;
          }),
        );
        if (!ready.every(Boolean)) {
          result.notStarted.push(service.name);
          return false;
        }
        await createAndStart(engine, plan, service);
        const healthy = await waitHealthy(engine, plan, service, state.monitors, options.healthDeadlineMs);
        result.timings[service.name] = Date.now() - t0;
        if (!healthy) result.unhealthy.push(service.name);
        return healthy;
      })();
      started.set(service.name, promise);
    }
    return promise;
  };
  await Promise.all(plan.services.map(start));
  if (!options.tolerateUnhealthy && (result.unhealthy.length > 0 || result.notStarted.length > 0)) {
    const logs = await Promise.all(
      result.unhealthy.map(
        async (service) =>
          `--- ${service}:\n${(await engine.run(['logs', '--tail', '30', containerName(plan.project, service)])).stderr.slice(-3000)}`,
      ),
    );
    throw new Error(
      `stack ${plan.project}: unhealthy [${result.unhealthy.join(', ')}], not started [${result.notStarted.join(', ')}]\n${logs.join('\n')}`,
    );
  }
  return result;
}

/** `name:tag` of `name:tag@sha256:...` (the stand-ins carry no registry digest in podman). */
export function localReference(image: string): string {
  return /^[^@]+:[^@/]+@sha256:[0-9a-f]{64}$/.test(image) ? image.slice(0, image.indexOf('@')) : image;
}

/** `--from TAG` when the Dockerfile's first FROM pins a digest (see localReference). */
function baseImageOverride(buildContext: string): string[] {
  const from = /^FROM\s+(\S+)/im.exec(readFileSync(join(buildContext, 'Dockerfile'), 'utf8'))?.[1];
  return from && localReference(from) !== from ? ['--from', localReference(from)] : [];
}

async function build(engine: Engine, plan: StackPlan, service: ServicePlan): Promise<void> {
  if (!service.buildContext) return;
  const args = ['build', '--network', 'none', '--layers=false', ...baseImageOverride(service.buildContext)];
  await engine.must(
    [...args, '--label', `com.docker.compose.project=${plan.project}`, '-t', service.image, service.buildContext],
    { timeoutMs: 600_000 },
  );
}

/** The `podman create` arguments of one service (exported for the runner's own tests). */
export function runArguments(plan: StackPlan, service: ServicePlan): string[] {
  const name = containerName(plan.project, service.name);
  const args = ['create', '--name', name, '--hostname', name.slice(0, 63)];
  const labels = [
    `com.docker.compose.project=${plan.project}`,
    `com.docker.compose.service=${service.name}`,
    'com.docker.compose.container-number=1',
    'com.docker.compose.oneoff=False',
    `com.docker.compose.project.working_dir=${plan.directory}`,
    `com.docker.compose.project.config_files=${plan.directory}/compose.yaml`,
  ];
  for (const label of labels) args.push('--label', label);
  if (service.user) args.push('--user', service.user);
  if (service.restart) args.push('--restart', service.restart);
  for (const option of service.securityOpt) args.push('--security-opt', option.replace(/:true$/, ''));
  for (const cap of service.capDrop) args.push('--cap-drop', cap);
  for (const cap of service.capAdd) args.push('--cap-add', cap);
  // Docker's read_only gives no extra writable paths; podman's --read-only adds tmpfs on /run,
  // /tmp and /var/tmp unless told not to.
  if (service.readOnly) args.push('--read-only', '--read-only-tmpfs=false');
  // Docker mounts every `tmpfs:` entry noexec,nosuid,nodev before its own options (size=...);
  // podman's default lacks noexec.
  for (const entry of service.tmpfs) {
    const [path, options] = entry.split(/:(.*)/s);
    args.push('--tmpfs', `${path}:rw,noexec,nosuid,nodev${options ? `,${options}` : ''}`);
  }
  if (service.pidsLimit !== undefined) args.push('--pids-limit', String(service.pidsLimit));
  if (service.shmSize) args.push('--shm-size', service.shmSize);
  if (service.logging) {
    // podman 4.3's json-file is its k8s-file driver; it honours max-size (one file truncated at
    // that size) and accepts max-file: the log on disk stays bounded, as json-file rotation's is.
    args.push('--log-driver', 'k8s-file');
    for (const [key, value] of Object.entries(service.logging.options)) args.push('--log-opt', `${key}=${value}`);
  }
  for (const port of service.ports) args.push('--publish', port);
  // The service name resolves on every network the service joins (Compose's default alias).
  for (const network of service.networks)
    args.push('--network', `${networkName(plan.project, network)}:alias=${service.name}`);
  for (const secret of service.secrets) {
    // Compose (non-swarm) file secrets: a read-only bind of the host file, owner and mode kept.
    args.push('--volume', `${plan.secrets[secret]}:/run/secrets/${secret}:ro`);
  }
  for (const [key, value] of Object.entries(service.environment)) args.push('--env', `${key}=${value}`);
  for (const volume of service.volumes) {
    const source = volume.kind === 'volume' ? volumeName(plan.project, volume.source) : volume.source;
    args.push('--volume', `${source}:${volume.target}${volume.readOnly ? ':ro' : ''}`);
  }
  if (service.healthcheck) {
    const h = service.healthcheck;
    // podman 4.3 stores a JSON ["CMD", ...] as one opaque string; the exec form is the bare array.
    const test = h.test[0] === 'CMD' ? h.test.slice(1) : h.test;
    args.push(
      '--health-cmd',
      JSON.stringify(test),
      '--health-interval',
      `${h.intervalMs}ms`,
      '--health-timeout',
      `${h.timeoutMs}ms`,
      '--health-retries',
      String(h.retries),
      '--health-start-period',
      `${h.startPeriodMs}ms`,
    );
  }
  if (service.memory) args.push('--memory', service.memory);
  if (service.cpus) args.push('--cpus', service.cpus);
  args.push(localReference(service.image), ...(service.command ?? []));
  return args;
}

async function createAndStart(engine: Engine, plan: StackPlan, service: ServicePlan): Promise<void> {
  await engine.must(runArguments(plan, service));
  await engine.must(['start', containerName(plan.project, service.name)]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function healthStatus(engine: Engine, name: string): Promise<string> {
  const result = await engine.run(['inspect', '--type', 'container', '--format', '{{.State.Health.Status}}', name]);
  return result.code === 0 ? result.stdout.trim() : 'missing';
}

/** Runs the container's healthcheck until healthy (true) or unhealthy/deadline (false), then keeps running it every interval. */
async function waitHealthy(
  engine: Engine,
  plan: StackPlan,
  service: ServicePlan,
  monitors: Map<string, Monitor>,
  deadlineMs?: number,
): Promise<boolean> {
  const name = containerName(plan.project, service.name);
  const h = service.healthcheck;
  if (!h) return true;
  const startedAt = Date.now();
  const limit = deadlineMs ?? h.startPeriodMs + h.intervalMs * (h.retries + 1) + h.timeoutMs;
  let healthy = false;
  while (Date.now() - startedAt < limit) {
    const inStartPeriod = Date.now() - startedAt < h.startPeriodMs;
    const probe = await engine.run(['healthcheck', 'run', name], { timeoutMs: h.timeoutMs + 10_000 });
    // A passing probe always makes the container healthy; only a failing one needs the status.
    const status = probe.code === 0 ? 'healthy' : await healthStatus(engine, name);
    if (status === 'healthy') {
      healthy = true;
      break;
    }
    if (status === 'unhealthy' || status === 'missing') break;
    await sleep(inStartPeriod ? 1000 : h.intervalMs);
  }
  monitors.get(service.name)?.stop();
  let stopped = false;
  const timer = setInterval(() => {
    if (!stopped) void engine.run(['healthcheck', 'run', name], { timeoutMs: h.timeoutMs + 10_000 });
  }, h.intervalMs);
  timer.unref();
  monitors.set(service.name, {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  });
  return healthy;
}

export interface DownOptions {
  volumes?: boolean;
  /** Also remove images built from the stack's build contexts. */
  images?: boolean;
}

export async function down(directory: string, options: DownOptions = {}): Promise<void> {
  let project: string;
  let builtImages: string[] = [];
  try {
    const plan = planStack(directory);
    project = plan.project;
    builtImages = plan.services.filter((service) => service.buildContext).map((service) => service.image);
  } catch {
    project = [...active.entries()].find(([, value]) => value.directory === directory)?.[0] ?? '';
  }
  if (!project) return;
  for (const monitor of active.get(project)?.monitors.values() ?? []) monitor.stop();
  active.delete(project);
  downSync(project, options.volumes ?? true, options.images ?? false, builtImages);
}

/** Synchronous teardown by label (usable from signal handlers). */
function downSync(project: string, volumes: boolean, images: boolean, tags: string[] = []): void {
  const env = podmanEnv();
  const run = (args: string[]) => spawnSync('podman', args, { env, encoding: 'utf8', timeout: 120_000 });
  const label = `label=com.docker.compose.project=${project}`;
  const ids = run(['ps', '-a', '-q', '--filter', label]).stdout.split(/\s+/).filter(Boolean);
  // Volumes kept: stop gracefully (Postgres and Redis flush); dropped anyway: no need to wait.
  if (ids.length > 0) run(['rm', '-f', '-v', '-t', volumes ? '0' : '10', ...ids]);
  const networks = run(['network', 'ls', '-q', '--filter', label]).stdout.split(/\s+/).filter(Boolean);
  if (networks.length > 0) run(['network', 'rm', '-f', ...networks]);
  if (volumes) {
    const names = run(['volume', 'ls', '-q', '--filter', label]).stdout.split(/\s+/).filter(Boolean);
    if (names.length > 0) run(['volume', 'rm', '-f', ...names]);
  }
  if (images) {
    // Every image built for the project (the runner labels its builds), tagged or left dangling by a rebuild.
    const built = run(['images', '-a', '-q', '--filter', label]).stdout.split(/\s+/).filter(Boolean);
    const tagged = tags.filter((tag) => run(['image', 'exists', tag]).status === 0);
    const names = [...new Set([...tagged, ...built])];
    if (names.length > 0) run(['rmi', '-f', ...names]);
  }
}

/** Removes one service's container and starts it again from compose.yaml (rebuilding its image), keeping named volumes. */
export async function recreate(directory: string, service: string, options: UpOptions = {}): Promise<boolean> {
  const plan = planStack(directory);
  const target = plan.services.find((s) => s.name === service);
  if (!target) throw new Error(`no service ${service} in ${directory}/compose.yaml`);
  const engine = podman();
  const state = active.get(plan.project) ?? { directory, monitors: new Map<string, Monitor>() };
  active.set(plan.project, state);
  state.monitors.get(service)?.stop();
  if (target.buildContext) await build(engine, plan, target);
  // Graceful stop (SIGTERM, 10 s as Compose): Redis and Postgres flush on the way down.
  await engine.run(['rm', '-f', '-v', '-t', '10', containerName(plan.project, service)]);
  await createAndStart(engine, plan, target);
  const healthy = await waitHealthy(engine, plan, target, state.monitors, options.healthDeadlineMs);
  if (!healthy && !options.tolerateUnhealthy) throw new Error(`${service} did not become healthy after recreation`);
  return healthy;
}

const extraCleanups: (() => void)[] = [];
/** Synchronous work (e.g. removing temporary directories) to do on SIGINT/SIGTERM too. */
export function onInterrupt(cleanup: () => void): void {
  extraCleanups.push(cleanup);
  installSignalHandlers();
}

let handlersInstalled = false;
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // E2E_KEEP=1 leaves stacks running for debugging (remove them with `podman rm -f`).
      if (!process.env['E2E_KEEP']) {
        for (const [project] of active) downSync(project, true, true);
        for (const cleanup of extraCleanups) cleanup();
      }
      process.kill(process.pid, signal);
    });
  }
}

/** Everything this process started, removed (afterAll safety net). */
export function downAll(): void {
  for (const [project, state] of active) {
    for (const monitor of state.monitors.values()) monitor.stop();
    downSync(project, true, true);
  }
  active.clear();
}
