/**
 * Docker Engine for the e2e tests: the private dockerd of engine/dockerd.sh, and generated stacks
 * booted by a real Compose client (docker-compose 1.29 here, `docker compose` where it exists),
 * through the same client code `secure-stack verify` uses. Anything the client warns it cannot
 * apply fails the run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { detectComposeClient, mustCompose, type ComposeClient } from '../../../verify/compose-client.js';
import { recreateService } from '../../../verify/command.js';
import { Engine, runProcess } from '../../../verify/engine.js';
import type { RecreateOptions, StackDriver } from './driver.js';

const ENGINE_DIR = new URL('../engine/', import.meta.url).pathname;

let environment: NodeJS.ProcessEnv | undefined;
/** The environment docker-env.sh exports: DOCKER_HOST of the private daemon, Debian's client first on PATH. */
export function dockerEnv(): NodeJS.ProcessEnv {
  environment ??= Object.fromEntries(
    execFileSync('bash', ['-c', `. "${ENGINE_DIR}docker-env.sh" && env -0`], { encoding: 'utf8' })
      .split('\0')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return environment;
}

/**
 * One test run at a time uses the engines: runs share host ports, project names and the daemon,
 * so a second run (a file run by hand beside a whole run) waits for the first. The lock is held
 * by a child process for the run's duration and released when it ends, however the run ends;
 * a daemon a killed run left is reused, and its leftovers removed, by the next.
 */
const RUN_LOCK = () => `${dockerEnv()['SSE_RUN_DIR'] ?? '/run/secure-stack-e2e'}/engines.lock`;
let lockHolder: ChildProcess | undefined;

function dockerdScript(command: 'start' | 'clean' | 'stop'): void {
  execFileSync(`${ENGINE_DIR}dockerd.sh`, [command], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
}

async function takeRunLock(): Promise<void> {
  mkdirSync(dirname(RUN_LOCK()), { recursive: true });
  const holder = spawn('flock', ['--exclusive', RUN_LOCK(), 'sh', '-c', 'echo locked; exec cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  lockHolder = holder;
  const waiting = setTimeout(() => console.warn(`[e2e] waiting for another test run to release ${RUN_LOCK()}`), 2000);
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`flock ${RUN_LOCK()} exited (${code})`)));
    });
  } finally {
    clearTimeout(waiting);
  }
}

async function releaseRunLock(): Promise<void> {
  const holder = lockHolder;
  lockHolder = undefined;
  if (!holder || holder.exitCode !== null) return;
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  holder.stdin?.end();
  await exited;
}

/** Takes the run lock, starts the private dockerd (reusing a running one) and removes what an interrupted run left (not images). */
export async function startDockerd(): Promise<void> {
  await takeRunLock();
  try {
    dockerdScript('start');
    dockerdScript('clean');
  } catch (error) {
    await stopDockerd();
    throw error;
  }
}

/** Stops the daemon, then lets the next run in. */
export async function stopDockerd(): Promise<void> {
  try {
    dockerdScript('stop');
  } finally {
    await releaseRunLock();
  }
}

interface ComposeFile {
  name?: string;
  services: Record<string, { build?: unknown; image?: string }>;
}

function composeOf(directory: string): ComposeFile {
  return parse(readFileSync(join(directory, 'compose.yaml'), 'utf8')) as ComposeFile;
}

function projectOf(directory: string): string {
  const { name } = composeOf(directory);
  if (!name) throw new Error(`${directory}/compose.yaml has no name`);
  return name;
}

/** Fails on anything the client says it ignored or cannot apply ("WARNING: ..."). */
function noWarnings(client: ComposeClient, what: string, output: string): void {
  const warnings = output.split('\n').filter((line) => /\bWARN(ING)?\b/i.test(line));
  if (warnings.length > 0)
    throw new Error(`${client.name} ${what} warned, so a key may not have been applied:\n${warnings.join('\n')}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DockerComposeDriver implements StackDriver {
  readonly engineName = 'docker';
  private constructor(private readonly compose: ComposeClient) {}

  static async create(): Promise<DockerComposeDriver> {
    const client = await detectComposeClient('docker', dockerEnv());
    if (!client) throw new Error('no Compose client for Docker: apt-get install docker-compose');
    return new DockerComposeDriver(client);
  }

  get client(): string {
    return `${this.compose.name} ${this.compose.version}`;
  }

  engine(): Engine {
    return new Engine('docker', dockerEnv());
  }

  async build(directory: string): Promise<void> {
    const result = await mustCompose(this.compose, directory, projectOf(directory), ['build', '--quiet']);
    noWarnings(this.compose, 'build', result.stderr);
  }

  async up(directory: string): Promise<void> {
    const project = projectOf(directory);
    // Compose starts each service once its service_healthy dependencies are healthy; nginx,
    // which nothing waits for, is waited for here.
    const result = await mustCompose(this.compose, directory, project, ['up', '--detach', '--no-build']);
    noWarnings(this.compose, 'up', result.stderr);
    await this.waitHealthy(project, Object.keys(composeOf(directory).services), 180_000);
  }

  async down(directory: string): Promise<void> {
    const project = projectOf(directory);
    await mustCompose(this.compose, directory, project, ['down', '--volumes', '--remove-orphans', '--timeout', '5']);
    // `down --rmi local` keeps images with a tag, as the backend's has: remove it by name.
    const built = Object.values(composeOf(directory).services)
      .filter((service) => service.build && service.image)
      .map((service) => String(service.image));
    if (built.length > 0) await runProcess('docker', ['image', 'rm', '--force', ...built], { env: dockerEnv() });
  }

  async recreate(directory: string, service: string, options: RecreateOptions = {}): Promise<void> {
    try {
      const result = await recreateService(
        this.engine(),
        this.compose,
        directory,
        projectOf(directory),
        service,
        options.healthDeadlineMs ?? 180_000,
      );
      noWarnings(this.compose, 'up --force-recreate', result.stderr);
    } catch (error) {
      if (!options.tolerateUnhealthy || !/did not become healthy/.test((error as Error).message)) throw error;
    }
  }

  private async waitHealthy(project: string, services: string[], deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const containers = await this.engine().containers(project);
      const unhealthy = services.filter(
        (service) =>
          !containers.some(
            (container) => container.service === service && container.running && container.health === 'healthy',
          ),
      );
      if (unhealthy.length === 0) return;
      if (Date.now() > deadline) {
        const logs = await Promise.all(
          unhealthy.map(async (service) => {
            const container = containers.find((candidate) => candidate.service === service);
            const tail = container ? await this.engine().run(['logs', '--tail', '20', container.id]) : undefined;
            return `--- ${service}: ${container ? `${container.running ? 'running' : 'exited'}, ${container.health}` : 'no container'}\n${tail ? tail.stdout + tail.stderr : ''}`;
          }),
        );
        throw new Error(
          `${project}: not healthy within ${deadlineMs / 1000} s: ${unhealthy.join(', ')}\n${logs.join('\n')}`,
        );
      }
      await sleep(1000);
    }
  }
}
