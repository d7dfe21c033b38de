/**
 * The container engine a stack runs on, driven through its CLI (`docker` or `podman`: both accept
 * the same ps/inspect/exec arguments used here). Containers are found by the labels Docker Compose
 * puts on them (com.docker.compose.project / .service), which the e2e runner puts on too; on a
 * Docker Swarm (`swarm`, driven through `docker` on a manager node) by the labels a stack's tasks
 * carry (com.docker.stack.namespace, com.docker.swarm.service.name = <stack>_<service>), and only
 * the containers of tasks on this node.
 */
import { execFile, spawnSync } from 'node:child_process';

export type EngineName = 'docker' | 'podman' | 'swarm';
/** The CLI each engine is driven through. */
export const ENGINE_COMMANDS: Record<EngineName, string> = { docker: 'docker', podman: 'podman', swarm: 'docker' };

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  service: string;
  running: boolean;
  /** healthy | unhealthy | starting | none */
  health: string;
  startedAt: number;
  /** Health log kept by the engine (the last few probes). */
  healthLog: { start: number; end: number; exitCode: number; output: string }[];
  /** Network name -> IPv4 address. */
  addresses: Record<string, string>;
  user: string;
  env: string[];
  restartCount: number;
}

/** Runs a program without a shell; never rejects (a failure to start is exit code 1 with the reason). */
export function runProcess(
  command: string,
  args: string[],
  options: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr) || (error && typeof error.code !== 'number' ? error.message : ''),
        });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    else child.stdin?.end();
  });
}

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const STACK_LABEL = 'com.docker.stack.namespace';
export const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.name';

/** A Swarm service of a stack: its name, replicas running and wanted (`docker service ls`). */
export interface SwarmServiceReplicas {
  service: string;
  running: number;
  desired: number;
}

export class Engine {
  constructor(
    readonly name: EngineName,
    /** Environment of every engine command (podman's CONTAINERS_* variables in the e2e tests). */
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get isSwarm(): boolean {
    return this.name === 'swarm';
  }

  run(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return runProcess(ENGINE_COMMANDS[this.name], args, { ...options, env: this.env });
  }

  async must(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0)
      throw new Error(
        `${ENGINE_COMMANDS[this.name]} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
      );
    return result.stdout;
  }

  /** Runs argv inside a container (no shell unless argv starts one). */
  exec(
    container: string,
    argv: string[],
    options: { user?: string; stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const args = ['exec'];
    if (options.stdin !== undefined) args.push('-i');
    if (options.user) args.push('--user', options.user);
    for (const [key, value] of Object.entries(options.env ?? {})) args.push('--env', `${key}=${value}`);
    return this.run([...args, container, ...argv], { stdin: options.stdin, timeoutMs: options.timeoutMs ?? 30_000 });
  }

  /** Every container of a Compose project (or, on a swarm, of a stack's tasks on this node), with what the checks need. */
  async containers(project: string): Promise<ContainerInfo[]> {
    const label = this.isSwarm ? STACK_LABEL : PROJECT_LABEL;
    const serviceOf = this.isSwarm ? swarmServiceOf(project) : composeServiceOf;
    // A container the engine removes between `ps` and `inspect` (Swarm removes a stopped task's
    // soon after) fails the inspect: list again, a few times.
    for (let attempt = 1; ; attempt += 1) {
      const ids = (await this.must(['ps', '-a', '-q', '--filter', `label=${label}=${project}`]))
        .split(/\s+/)
        .filter(Boolean);
      if (ids.length === 0) return [];
      try {
        return (await this.inspect(ids, serviceOf)).filter((container) => container.service !== '');
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /**
   * A stack's Swarm services: the replicas each wants (`docker service ls`) and how many of its
   * tasks run on a node that is up (`service ls` still counts a task of a node gone down). A task
   * with a healthcheck runs only once it passed.
   */
  async swarmServices(project: string): Promise<SwarmServiceReplicas[]> {
    const lines = (
      await this.must([
        'service',
        'ls',
        '--filter',
        `label=${STACK_LABEL}=${project}`,
        '--format',
        '{{.ID}} {{.Name}} {{.Replicas}}',
      ])
    )
      .split('\n')
      .filter(Boolean);
    const wanted = lines.flatMap((line) => {
      const match = /^(\S+) (\S+) \d+\/(\d+)/.exec(line);
      return match ? [{ id: match[1]!, service: match[2]!.slice(project.length + 1), desired: Number(match[3]) }] : [];
    });
    if (wanted.length === 0) return [];
    const taskIds = (
      await this.must([
        'service',
        'ps',
        '-q',
        '--no-trunc',
        '--filter',
        'desired-state=running',
        ...wanted.map((service) => service.id),
      ])
    )
      .split(/\s+/)
      .filter(Boolean);
    const tasks =
      taskIds.length === 0 ? [] : (JSON.parse(await this.must(['inspect', '--type', 'task', ...taskIds])) as RawTask[]);
    const ready = new Set(
      (await this.must(['node', 'ls', '--format', '{{.ID}} {{.Status}}']))
        .split('\n')
        .filter((line) => line.endsWith(' Ready'))
        .map((line) => line.split(' ')[0]),
    );
    return wanted.map(({ id, service, desired }) => ({
      service,
      desired,
      running: tasks.filter(
        (task) => task.ServiceID.startsWith(id) && task.Status.State === 'running' && ready.has(task.NodeID ?? ''),
      ).length,
    }));
  }

  /** The IPv4 gateways (the host's own addresses on them) of the named networks. */
  async gateways(networks: string[]): Promise<Record<string, string[]>> {
    if (networks.length === 0) return {};
    const raw = JSON.parse(await this.must(['network', 'inspect', ...networks])) as RawNetwork[];
    const gateways: Record<string, string[]> = {};
    for (const network of raw) {
      // docker: IPAM.Config[].Gateway; podman 4: subnets[].gateway
      const entries = [
        ...(network.IPAM?.Config ?? []).map((config) => config.Gateway),
        ...(network.subnets ?? []).map((subnet) => subnet.gateway),
      ];
      gateways[network.Name ?? network.name ?? ''] = entries.filter(
        (address): address is string => typeof address === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(address),
      );
    }
    return gateways;
  }

  async inspect(ids: string[], serviceOf: ServiceOf = composeServiceOf): Promise<ContainerInfo[]> {
    const raw = JSON.parse(await this.must(['inspect', '--type', 'container', ...ids])) as RawInspect[];
    return raw.map((container) => toContainerInfo(container, serviceOf));
  }
}

interface RawInspect {
  Id: string;
  Name: string;
  RestartCount?: number;
  State: { Running: boolean; StartedAt: string; Health?: RawHealth; Healthcheck?: RawHealth };
  Config: { Labels?: Record<string, string> | null; User?: string; Env?: string[] | null };
  NetworkSettings: { Networks?: Record<string, { IPAddress?: string }> | null };
}

interface RawTask {
  ServiceID: string;
  NodeID?: string;
  Status: { State: string };
}

interface RawNetwork {
  Name?: string;
  name?: string;
  IPAM?: { Config?: { Gateway?: string }[] | null };
  subnets?: { gateway?: string }[] | null;
}

interface RawHealth {
  Status?: string;
  Log?: { Start: string; End: string; ExitCode: number; Output: string }[] | null;
}

/** RFC 3339 with nanoseconds ("...08.182460909Z") to milliseconds. */
export function parseTime(text: string): number {
  const trimmed = text.replace(/(\.\d{3})\d+/, '$1');
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** The stack's service a container belongs to, from its labels ('' when none). */
type ServiceOf = (labels: Record<string, string>) => string;
const composeServiceOf: ServiceOf = (labels) => labels[SERVICE_LABEL] ?? '';
const swarmServiceOf =
  (project: string): ServiceOf =>
  (labels) => {
    const name = labels[SWARM_SERVICE_LABEL] ?? '';
    return name.startsWith(`${project}_`) ? name.slice(project.length + 1) : '';
  };

function toContainerInfo(raw: RawInspect, serviceOf: ServiceOf): ContainerInfo {
  const health = raw.State.Health ?? raw.State.Healthcheck;
  const addresses: Record<string, string> = {};
  for (const [network, settings] of Object.entries(raw.NetworkSettings.Networks ?? {})) {
    if (settings.IPAddress) addresses[network] = settings.IPAddress;
  }
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    service: serviceOf(raw.Config.Labels ?? {}),
    running: raw.State.Running,
    health: health?.Status || 'none',
    startedAt: parseTime(raw.State.StartedAt),
    healthLog: (health?.Log ?? []).map((entry) => ({
      start: parseTime(entry.Start),
      end: parseTime(entry.End),
      exitCode: entry.ExitCode,
      output: entry.Output,
    })),
    addresses,
    user: raw.Config.User ?? '',
    env: raw.Config.Env ?? [],
    restartCount: raw.RestartCount ?? 0,
  };
}

/** `docker` when it answers, else `podman`; undefined when neither does. Swarm is never guessed: it is asked for. */
export function detectEngine(env: NodeJS.ProcessEnv = process.env): EngineName | undefined {
  for (const name of ['docker', 'podman'] as const) {
    const result = spawnSync(name, ['version'], { stdio: 'ignore', timeout: 15_000, env });
    if (result.error === undefined && result.status === 0) return name;
  }
  return undefined;
}
