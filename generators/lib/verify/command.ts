/**
 * `secure-stack verify`: runs checks 1-5 (and 6 with --persistence) against the stack of the
 * repository in the current directory, as Docker Compose or podman runs it, prints a pass/fail
 * table and returns 0 only when every check passed.
 */
import { parseArgs } from 'node:util';
import { runChecks, type CheckGroup, CHECK_GROUPS } from './checks.js';
import { detectEngine, Engine, runProcess, type EngineName } from './engine.js';
import { formatReport } from './report.js';
import { readExpectedStack } from './stack.js';

export const VERIFY_HELP = `Usage: secure-stack verify [--engine docker|podman] [--persistence] [--only 1,2,...]

Checks the running stack of the repository in the current directory (found by the
Compose labels of the project named in compose.yaml):
  1 health       every service healthy by its own healthcheck; depends_on order held
  2 routing      nginx on the published port (loopback): /health/, routes, 404s, 444, headers
  3 isolation    nginx cannot resolve or reach the data stores; they have no default route
  4 auth         Postgres and Redis accept the generated secrets and refuse wrong or none
  5 secrets      each service sees only its secrets; none in argv, environment or compose.yaml
  6 persistence  (--persistence only: RESTARTS the data stores) data survives recreation
Exit code: 0 all passed, 1 a check failed, 2 usage error.`;

export async function runVerify(argv: string[], cwd: string): Promise<number> {
  let values: { engine?: string; persistence?: boolean; only?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { engine: { type: 'string' }, persistence: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${VERIFY_HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${VERIFY_HELP}\n`);
    return 0;
  }
  const engineName = values.engine ?? detectEngine();
  if (engineName !== 'docker' && engineName !== 'podman') {
    process.stderr.write(engineName === undefined ? 'No container engine found: install docker or podman, or pass --engine.\n' : `--engine must be docker or podman, not ${JSON.stringify(engineName)}\n`);
    return 2;
  }
  let groups: CheckGroup[] | undefined;
  if (values.only) {
    groups = [];
    for (const item of values.only.split(',')) {
      const group = CHECK_GROUPS[Number(item) - 1] ?? CHECK_GROUPS.find((name) => name === item);
      if (!group) {
        process.stderr.write(`--only: unknown check ${JSON.stringify(item)}\n`);
        return 2;
      }
      groups.push(group);
    }
  }
  let expected;
  try {
    expected = readExpectedStack(cwd);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const engine = new Engine(engineName as EngineName);
  const results = await runChecks({
    engine,
    expected,
    groups,
    persistence: values.persistence === true,
    recreate: composeRecreate(engine, cwd, expected.project),
  });
  process.stdout.write(`secure-stack verify: project ${expected.project} on ${engine.name}\n${formatReport(results)}\n`);
  return results.every((result) => result.ok) ? 0 : 1;
}

/**
 * Recreates one service the way its owner runs the stack: `docker compose up --no-deps
 * --force-recreate` (or podman-compose's), then waits until the engine reports it healthy.
 */
function composeRecreate(engine: Engine, cwd: string, project: string): (service: string) => Promise<void> {
  return async (service) => {
    const [command, prefix] = engine.name === 'docker' ? ['docker', ['compose']] : ['podman-compose', []];
    const args = [...prefix, '--project-directory', cwd, '-p', project, 'up', '-d', '--no-deps', '--force-recreate', service];
    const result = await runProcess(command, args, { cwd, env: engine.env, timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim().slice(-300)}`);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const container = (await engine.containers(project)).find((candidate) => candidate.service === service && candidate.running);
      if (container?.health === 'healthy') return;
      if (Date.now() > deadline) throw new Error(`${service} did not become healthy within 180 s of being recreated`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
}
