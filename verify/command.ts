/**
 * `secure-stack verify`: runs checks 1-5 (6 with --persistence, 7 with --audit) against the stack of the
 * repository in the current directory, as Docker Compose or podman runs it, prints a pass/fail
 * table and returns 0 only when every check passed.
 */
import { parseArgs } from 'node:util';
import { runChecks, type CheckGroup, CHECK_GROUPS } from './checks.js';
import { CANDIDATES, detectComposeClient, mustCompose, type ComposeClient, type ExecResult } from './compose-client.js';
import { detectEngine, Engine, type EngineName } from './engine.js';
import { formatReport } from './report.js';
import { type ExpectedStack, readExpectedStack } from './stack.js';
import { ExitCode } from '../generators/lib/errors.js';

export const VERIFY_HELP = `Usage: secure-stack verify [--engine docker|podman|swarm] [--persistence] [--audit] [--only 1,2,...]

Checks the running stack of the repository in the current directory (found by the
Compose labels of the project named in compose.yaml; with --engine swarm, on a manager
node, the stack deployed from stack.yaml under that name):
  1 health       every service healthy by its own healthcheck; depends_on order held
                 (swarm: every service runs its desired replicas, backend as answered)
  2 routing      /health/ through nginx; on the published port (loopback): routes, 404s, 444, headers
  3 isolation    nginx cannot resolve or reach the data stores; they cannot reach nginx or its ports
  4 auth         Postgres and Redis accept the generated secrets and refuse wrong or none
  5 secrets      each service sees only its secrets; none in argv, environment or compose.yaml
  6 persistence  (--persistence only: RESTARTS the data stores) data survives recreation
  7 audit        (--audit only) bandit, shellcheck, yamllint, nginx and Dockerfile rules on the
                 repository, testssl.sh on the HTTPS port; a finding outside the reviewed
                 allow-list, or a scanner not installed, fails
Exit code: 0 all passed, 1 a check failed, 2 usage error.`;

/** Where the command writes: the process's streams, or a test's collectors (stacks checked side by side). */
export interface VerifyOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PROCESS_OUTPUT: VerifyOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export async function runVerify(
  argv: string[],
  cwd: string,
  output: VerifyOutput = PROCESS_OUTPUT,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let values: { engine?: string; persistence?: boolean; audit?: boolean; only?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        engine: { type: 'string' },
        persistence: { type: 'boolean' },
        audit: { type: 'boolean' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    output.err(`${(error as Error).message}\n${VERIFY_HELP}\n`);
    return ExitCode.usage;
  }
  if (values.help) {
    output.out(`${VERIFY_HELP}\n`);
    return ExitCode.ok;
  }
  const engineName = values.engine ?? detectEngine(env);
  if (engineName !== 'docker' && engineName !== 'podman' && engineName !== 'swarm') {
    output.err(
      engineName === undefined
        ? 'No container engine found: install docker or podman, or pass --engine.\n'
        : `--engine must be docker, podman or swarm, not ${JSON.stringify(engineName)}\n`,
    );
    return ExitCode.usage;
  }
  let groups: CheckGroup[] | undefined;
  if (values.only) {
    groups = [];
    for (const item of values.only.split(',')) {
      const group = CHECK_GROUPS[Number(item) - 1] ?? CHECK_GROUPS.find((name) => name === item);
      if (!group) {
        output.err(`--only: unknown check ${JSON.stringify(item)}\n`);
        return ExitCode.usage;
      }
      groups.push(group);
    }
  }
  let expected: ExpectedStack;
  try {
    expected = readExpectedStack(cwd);
  } catch (error) {
    output.err(`${(error as Error).message}\n`);
    return ExitCode.usage;
  }
  const engine = new Engine(engineName as EngineName, env);
  const persistence = values.persistence === true && (groups === undefined || groups.includes('persistence'));
  // Check 6 recreates services the way their owner runs the stack: through the Compose client,
  // or on a swarm by forcing the service's update.
  const composeEngine = engine.name === 'swarm' ? undefined : engine.name;
  const client = persistence && composeEngine ? await detectComposeClient(composeEngine, engine.env) : undefined;
  const recreate = engine.isSwarm
    ? async (service: string) => void (await recreateSwarmService(engine, expected.project, service))
    : client
      ? async (service: string) => void (await recreateService(engine, client, cwd, expected.project, service))
      : undefined;
  const results = await runChecks({
    engine,
    expected,
    groups,
    persistence: values.persistence === true,
    audit: values.audit === true,
    recreate,
  });
  const tried = composeEngine ? CANDIDATES[composeEngine].map((candidate) => candidate.name).join(', ') : '';
  const recreatedBy = engine.isSwarm
    ? 'docker service scale (to 0 and back)'
    : client
      ? `${client.name} ${client.version}`
      : `no Compose client (none of ${tried} answered)`;
  const via = persistence ? `; recreating through ${recreatedBy}` : '';
  output.out(`secure-stack verify: project ${expected.project} on ${engine.name}${via}\n${formatReport(results)}\n`);
  return results.every((result) => result.ok) ? ExitCode.ok : ExitCode.checkFailed;
}

/**
 * Recreates one service keeping its volumes (`up -d --no-deps --force-recreate`), then waits until
 * the engine reports it healthy.
 */
export async function recreateService(
  engine: Engine,
  client: ComposeClient,
  directory: string,
  project: string,
  service: string,
  healthDeadlineMs = 180_000,
): Promise<ExecResult> {
  const result = await mustCompose(
    client,
    directory,
    project,
    ['up', '-d', '--no-deps', '--force-recreate', service],
    300_000,
  );
  const deadline = Date.now() + healthDeadlineMs;
  for (;;) {
    const container = (await engine.containers(project)).find(
      (candidate) => candidate.service === service && candidate.running,
    );
    if (container?.health === 'healthy') return result;
    if (Date.now() > deadline)
      throw new Error(
        `${service} did not become healthy within ${Math.round(healthDeadlineMs / 1000)} s of being recreated`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * On a swarm: the service is scaled to none, and back once its task has stopped (a single
 * replica's volume stays on its pinned node); then this waits until this node runs a healthy
 * container of it.
 */
export async function recreateSwarmService(
  engine: Engine,
  project: string,
  service: string,
  healthDeadlineMs = 180_000,
): Promise<string> {
  const before = new Set(
    (await engine.containers(project))
      .filter((container) => container.service === service)
      .map((container) => container.id),
  );
  // Scaled to none and back, not `service update --force`: that leaves a force counter the stack
  // file does not have, and the next `docker stack deploy` would restart the service to undo it.
  const name = `${project}_${service}`;
  const replicas =
    (await engine.must(['service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', name])).trim() || '1';
  await engine.must(['service', 'scale', '--detach', `${name}=0`], { timeoutMs: 120_000 });
  const deadline = Date.now() + healthDeadlineMs;
  // The old task must be gone before the new one starts: two PostgreSQL servers on one data directory.
  // (A container Swarm removes between `ps` and `inspect` fails the listing: that is asked again.)
  const stillRunning = async () =>
    (await engine.containers(project).catch(() => undefined))?.some(
      (candidate) => candidate.service === service && candidate.running,
    ) ?? true;
  while (await stillRunning()) {
    if (Date.now() > deadline)
      throw new Error(`${service} did not stop within ${Math.round(healthDeadlineMs / 1000)} s of being scaled to 0`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const output = await engine.must(['service', 'scale', '--detach', `${name}=${replicas}`], { timeoutMs: 120_000 });
  for (;;) {
    const fresh = (await engine.containers(project).catch(() => [])).find(
      (candidate) => candidate.service === service && candidate.running && !before.has(candidate.id),
    );
    if (fresh?.health === 'healthy') return output;
    if (Date.now() > deadline)
      throw new Error(
        `${service} had no new healthy task on this node within ${Math.round(healthDeadlineMs / 1000)} s of its forced update`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
