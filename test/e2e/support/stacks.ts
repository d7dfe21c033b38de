/** Generating and verifying e2e stacks: the generator's own bin, the shipped checks, on either engine. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT as REPO_ROOT } from '../../../generators/lib/package-info.js';
import { runChecks, type CheckGroup, type CheckResult } from '../../../verify/checks.js';
import { runVerify } from '../../../verify/command.js';
import { formatReport } from '../../../verify/report.js';
import { readExpectedStack } from '../../../verify/stack.js';
import { hasCommand, prerequisite } from '../../support/prerequisites.js';
import { onInterrupt } from '../runner/runner.js';
import type { StackDriver } from './driver.js';

export { REPO_ROOT };
export const EXAMPLE_ANSWERS = join(REPO_ROOT, 'examples/answers.json');
const BIN = join(REPO_ROOT, 'dist/cli/main.js');

/** Root and the engine's packages, or (outside CI) skip; with CI set, fail. */
export function enginePrerequisite(engine: 'docker' | 'podman'): boolean {
  const install = 'scripts/test-prerequisites.sh';
  const root = prerequisite(
    'root (the e2e engines run as root)',
    () => process.getuid?.() === 0,
    'run the tests as root',
  );
  if (!root) return false;
  if (engine === 'podman') return prerequisite('podman', () => hasCommand('podman'), install);
  return (
    prerequisite('dockerd', () => hasCommand('/usr/sbin/dockerd'), install) &&
    prerequisite('docker-compose', () => hasCommand('docker-compose', ['version', '--short']), install)
  );
}

const temporaryDirectories: string[] = [];
onInterrupt(() => removeTemporaryDirectories());

export function stackDirectory(name: string): string {
  const parent = mkdtempSync(join(tmpdir(), 'secure-stack-e2e-'));
  temporaryDirectories.push(parent);
  const directory = join(parent, name);
  mkdirSync(directory);
  return directory;
}

export function removeTemporaryDirectories(): void {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
}

/** Runs the packaged bin (built by `npm test`) in `directory`. */
export function generateStack(directory: string, args: string[]): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first (npm test does)`);
  execFileSync(process.execPath, [BIN, ...args], { cwd: directory, stdio: 'pipe', env: { ...process.env, CI: '1' } });
}

/** The shipped checks on a running stack; persistence recreates through the driver's Compose client. */
export async function verifyStack(
  driver: StackDriver,
  directory: string,
  groups?: CheckGroup[],
  persistence = true,
): Promise<CheckResult[]> {
  return runChecks({
    engine: driver.engine(),
    expected: readExpectedStack(directory),
    groups,
    persistence,
    recreate: (service) => driver.recreate(directory, service),
  });
}

/** Fails with the whole table when any check failed. */
export function expectAllPassed(results: CheckResult[]): void {
  const failed = results.filter((result) => !result.ok);
  if (results.length === 0 || failed.length > 0) throw new Error(`checks failed:\n${formatReport(results)}`);
}

/** `secure-stack verify ARGS` in `directory` with the engine's environment: its exit code and everything it printed. */
export async function verifyCommand(
  args: string[],
  directory: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; printed: string }> {
  let printed = '';
  const collect = (text: string) => {
    printed += text;
  };
  const code = await runVerify(args, directory, { out: collect, err: collect }, env);
  return { code, printed };
}

/** A `timed(phase, work)` that adds "LABEL  phase  seconds" to `timings`, for a file's timing report. */
export function phaseTimer(
  label: string,
  timings: string[],
  phaseWidth = 24,
): <T>(phase: string, work: () => Promise<T>) => Promise<T> {
  return async (phase, work) => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      timings.push(`${label.padEnd(12)} ${phase.padEnd(phaseWidth)} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
  };
}
