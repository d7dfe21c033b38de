/** Generating and verifying e2e stacks: the generator's own bin, the shipped checks, the podman runner. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecks, type CheckGroup, type CheckResult } from '../../../generators/lib/verify/checks.js';
import { formatReport } from '../../../generators/lib/verify/report.js';
import { readExpectedStack } from '../../../generators/lib/verify/stack.js';
import { hasCommand, prerequisite } from '../../support/prerequisites.js';
import { onInterrupt, podman, recreate } from '../runner/runner.js';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;
export const EXAMPLE_ANSWERS = join(REPO_ROOT, 'examples/answers.json');
const BIN = join(REPO_ROOT, 'dist/cli/main.js');

/** Root and a working podman, or (outside CI) skip; with CI set, fail. */
export function enginePrerequisite(): boolean {
  return (
    prerequisite('root (the e2e engine is rootful podman)', () => process.getuid?.() === 0, 'run the tests as root') &&
    prerequisite('podman', () => hasCommand('podman'), 'apt-get install -y $(cat test/e2e/engine/APT_PACKAGES)')
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

/** The shipped checks on a podman-run stack; persistence recreates through the runner. */
export async function verifyStack(directory: string, groups?: CheckGroup[], persistence = true): Promise<CheckResult[]> {
  return runChecks({
    engine: podman(),
    expected: readExpectedStack(directory),
    groups,
    persistence,
    recreate: async (service) => {
      await recreate(directory, service);
    },
  });
}

/** Fails with the whole table when any check failed. */
export function expectAllPassed(results: CheckResult[]): void {
  const failed = results.filter((result) => !result.ok);
  if (results.length === 0 || failed.length > 0) throw new Error(`checks failed:\n${formatReport(results)}`);
}

export const timings: Record<string, number> = {};
