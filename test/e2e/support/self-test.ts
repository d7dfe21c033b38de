/**
 * Self-test of the checks: each breakage is applied to a running, passing stack (compose.yaml or
 * nginx.conf edited, the affected service recreated), the checks must report a failure, then the
 * files are restored and the service recreated again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { writeCompose } from './compose-file.js';
import type { CheckGroup, CheckResult } from '../../../verify/checks.js';
import { formatReport } from '../../../verify/report.js';
import { expectAllPassed, verifyStack } from './stacks.js';
import type { StackDriver } from './driver.js';

type Compose = { services: Record<string, Record<string, unknown>> };

export interface Breakage {
  name: string;
  /** Edits the repository; returns the services to recreate. */
  apply: (directory: string) => string[];
  groups: CheckGroup[];
  /** A row that must fail (group + start of its name). */
  mustFail: { group: CheckGroup; name: string }[];
  /** How long to wait for the broken service to become healthy (it may never). */
  deadlineMs: number;
}

function editCompose(directory: string, edit: (compose: Compose) => void): void {
  const path = join(directory, 'compose.yaml');
  const compose = parse(readFileSync(path, 'utf8')) as Compose;
  edit(compose);
  writeCompose(path, compose);
}

function service(compose: Compose, name: string): Record<string, unknown> {
  const found = compose.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

export function breakages(typoRoute: string): Breakage[] {
  return [
    {
      name: 'a Postgres healthcheck that always passes while Postgres never starts',
      apply: (directory) => {
        editCompose(directory, (compose) => {
          const postgres = service(compose, 'postgres');
          postgres['command'] = ['sleep', 'infinity'];
          postgres['healthcheck'] = { ...(postgres['healthcheck'] as object), test: ['CMD', 'true'] };
        });
        return ['postgres'];
      },
      groups: ['health', 'routing', 'auth'],
      mustFail: [
        { group: 'routing', name: '/health/ reports database ok' },
        { group: 'auth', name: 'the secret file logs into Postgres' },
      ],
      deadlineMs: 20_000,
    },
    {
      name: 'Postgres also on the public network',
      apply: (directory) => {
        editCompose(directory, (compose) => {
          const postgres = service(compose, 'postgres');
          postgres['networks'] = [...(postgres['networks'] as string[]), 'frontend-network'];
        });
        return ['postgres'];
      },
      groups: ['isolation'],
      mustFail: [
        { group: 'isolation', name: 'postgres joins internal networks only' },
        { group: 'isolation', name: 'nginx cannot resolve postgres' },
        { group: 'isolation', name: 'nginx cannot connect to postgres' },
        { group: 'isolation', name: 'postgres cannot connect to nginx or its published ports' },
      ],
      deadlineMs: 60_000,
    },
    {
      name: 'a secret missing from the backend',
      apply: (directory) => {
        editCompose(directory, (compose) => {
          const backend = service(compose, 'backend');
          backend['secrets'] = (backend['secrets'] as string[]).filter((secret) => secret !== 'db_password');
        });
        return ['backend'];
      },
      groups: ['health', 'secrets'],
      mustFail: [
        { group: 'health', name: 'backend healthy' },
        { group: 'secrets', name: 'backend' },
      ],
      deadlineMs: 8_000,
    },
    {
      name: `a route typo in nginx.conf (${typoRoute} -> ${typoRoute}x)`,
      apply: (directory) => {
        const path = join(directory, 'nginx/nginx.conf');
        const text = readFileSync(path, 'utf8');
        const broken = text
          .replace(`location = ${typoRoute} {`, `location = ${typoRoute}x {`)
          .replace(`location ${typoRoute}/ {`, `location ${typoRoute}x/ {`);
        if (broken === text) throw new Error(`route ${typoRoute} not found in nginx.conf`);
        writeFileSync(path, broken);
        return ['nginx'];
      },
      groups: ['routing'],
      mustFail: [{ group: 'routing', name: 'each route and a sub-path reach the backend' }],
      deadlineMs: 60_000,
    },
    {
      name: '/health/ published in nginx.conf',
      apply: (directory) => {
        const path = join(directory, 'nginx/nginx.conf');
        const text = readFileSync(path, 'utf8');
        const marker = "        # The backend's /health/ is not served here";
        const at = text.indexOf(marker);
        if (at < 0) throw new Error('the comment where /health/ is left out not found in nginx.conf');
        const upstream = /proxy_pass (\S+);/.exec(text.slice(at))?.[1] ?? 'http://backend';
        writeFileSync(
          path,
          `${text.slice(0, at)}        location = /health/ {\n            proxy_pass ${upstream};\n        }\n${text.slice(at)}`,
        );
        return ['nginx'];
      },
      groups: ['routing'],
      mustFail: [{ group: 'routing', name: '/health/ is not served on the published port' }],
      deadlineMs: 60_000,
    },
  ];
}

/** Applies one breakage, runs the checks, restores the files and the services. */
export async function withBreakage(
  driver: StackDriver,
  directory: string,
  breakage: Breakage,
  check: (groups: CheckGroup[]) => Promise<CheckResult[]>,
): Promise<CheckResult[]> {
  const files = ['compose.yaml', 'nginx/nginx.conf'].map(
    (file) => [join(directory, file), readFileSync(join(directory, file))] as const,
  );
  const services = breakage.apply(directory);
  try {
    for (const name of services)
      await driver.recreate(directory, name, { tolerateUnhealthy: true, healthDeadlineMs: breakage.deadlineMs });
    return await check(breakage.groups);
  } finally {
    for (const [path, content] of files) writeFileSync(path, content);
    for (const name of services) await driver.recreate(directory, name);
  }
}

/** The rows the breakage must make fail that did not. */
export function missedFailures(breakage: Breakage, results: CheckResult[]): string[] {
  return breakage.mustFail
    .filter(
      ({ group, name }) =>
        !results.some((result) => result.group === group && result.name.startsWith(name) && !result.ok),
    )
    .map(({ group, name }) => `${group}: ${name}`);
}

/**
 * The whole self-test on a running, passing stack: each breakage applied in turn must fail the
 * rows it names; then the stack is restored (dependents recreated after postgres, in order, as
 * `up` would) and checks 1-5 pass again. Returns the breakages whose rows did not fail, each with
 * the report; `timed` wraps each breakage for the run's timings.
 */
export async function selfTestProblems(
  driver: StackDriver,
  directory: string,
  timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const breakage of breakages('/api')) {
    const results = await timed(`broken: ${breakage.name.slice(0, 16)}`, () =>
      withBreakage(driver, directory, breakage, (groups) => verifyStack(driver, directory, groups, false)),
    );
    const missed = missedFailures(breakage, results);
    if (missed.length > 0)
      problems.push(`${breakage.name}: not reported: ${missed.join('; ')}\n${formatReport(results)}`);
  }
  await driver.recreate(directory, 'backend');
  await driver.recreate(directory, 'nginx');
  expectAllPassed(await verifyStack(driver, directory, ['health', 'routing', 'isolation', 'auth', 'secrets']));
  return problems;
}
