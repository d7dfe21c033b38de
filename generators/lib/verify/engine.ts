/**
 * The container engine a stack runs on, driven through its CLI (`docker` or `podman`: both accept
 * the same ps/inspect/exec arguments used here). Containers are found by the labels Docker Compose
 * puts on them (com.docker.compose.project / .service), which the e2e runner puts on too.
 */
import { execFile, spawnSync } from 'node:child_process';

export type EngineName = 'docker' | 'podman';

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
export function runProcess(command: string, args: string[], options: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error && typeof error.code !== 'number' ? error.message : '') });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    else child.stdin?.end();
  });
}

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

export class Engine {
  constructor(
    readonly name: EngineName,
    /** Environment of every engine command (podman's CONTAINERS_* variables in the e2e tests). */
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  run(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return runProcess(this.name, args, { ...options, env: this.env });
  }

  async must(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(`${this.name} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
    return result.stdout;
  }

  /** Runs argv inside a container (no shell unless argv starts one). */
  exec(container: string, argv: string[], options: { user?: string; stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> {
    const args = ['exec'];
    if (options.stdin !== undefined) args.push('-i');
    if (options.user) args.push('--user', options.user);
    for (const [key, value] of Object.entries(options.env ?? {})) args.push('--env', `${key}=${value}`);
    return this.run([...args, container, ...argv], { stdin: options.stdin, timeoutMs: options.timeoutMs ?? 30_000 });
  }

  /** Every container of a Compose project, by its labels, with what the checks need. */
  async containers(project: string): Promise<ContainerInfo[]> {
    const ids = (await this.must(['ps', '-a', '-q', '--filter', `label=${PROJECT_LABEL}=${project}`])).split(/\s+/).filter(Boolean);
    if (ids.length === 0) return [];
    return (await this.inspect(ids)).filter((container) => container.service !== '');
  }

  /** The IPv4 gateways (the host's own addresses on them) of the named networks. */
  async gateways(networks: string[]): Promise<Record<string, string[]>> {
    if (networks.length === 0) return {};
    const raw = JSON.parse(await this.must(['network', 'inspect', ...networks])) as RawNetwork[];
    const gateways: Record<string, string[]> = {};
    for (const network of raw) {
      // docker: IPAM.Config[].Gateway; podman 4: subnets[].gateway
      const entries = [...(network.IPAM?.Config ?? []).map((config) => config.Gateway), ...(network.subnets ?? []).map((subnet) => subnet.gateway)];
      gateways[network.Name ?? network.name ?? ''] = entries.filter((address): address is string => typeof address === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(address));
    }
    return gateways;
  }

  async inspect(ids: string[]): Promise<ContainerInfo[]> {
    const raw = JSON.parse(await this.must(['inspect', '--type', 'container', ...ids])) as RawInspect[];
    return raw.map(toContainerInfo);
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

function toContainerInfo(raw: RawInspect): ContainerInfo {
  const health = raw.State.Health ?? raw.State.Healthcheck;
  const addresses: Record<string, string> = {};
  for (const [network, settings] of Object.entries(raw.NetworkSettings.Networks ?? {})) {
    if (settings.IPAddress) addresses[network] = settings.IPAddress;
  }
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    service: raw.Config.Labels?.[SERVICE_LABEL] ?? '',
    running: raw.State.Running,
    health: health?.Status || 'none',
    startedAt: parseTime(raw.State.StartedAt),
    healthLog: (health?.Log ?? []).map((entry) => ({ start: parseTime(entry.Start), end: parseTime(entry.End), exitCode: entry.ExitCode, output: entry.Output })),
    addresses,
    user: raw.Config.User ?? '',
    env: raw.Config.Env ?? [],
    restartCount: raw.RestartCount ?? 0,
  };
}

/** `docker` when it answers, else `podman`; undefined when neither does. */
export function detectEngine(env: NodeJS.ProcessEnv = process.env): EngineName | undefined {
  for (const name of ['docker', 'podman'] as const) {
    const result = spawnSync(name, ['version'], { stdio: 'ignore', timeout: 15_000, env });
    if (result.error === undefined && result.status === 0) return name;
  }
  return undefined;
}
