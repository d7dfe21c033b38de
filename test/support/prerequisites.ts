/**
 * External tools the oracle tests run (nginx, Debian's Django, podman). Outside CI a missing tool
 * skips the tests that need it, with the reason printed; with CI set it fails the run, so a
 * missing install step can never pass as green.
 */
import { spawnSync } from 'node:child_process';

export function hasCommand(command: string, args: string[] = ['--version']): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/** True when `check` holds; in CI a failed check throws, failing the test file that needs it. */
export function prerequisite(name: string, check: () => boolean, install: string): boolean {
  if (check()) return true;
  const message = `Prerequisite missing: ${name} (install with: ${install})`;
  if (process.env['CI']) throw new Error(`${message}. With CI set, a missing prerequisite fails the run.`);
  console.warn(`${message}: skipping the tests that need it.`);
  return false;
}

export const DEBIAN_PYTHON = '/usr/bin/python3';
