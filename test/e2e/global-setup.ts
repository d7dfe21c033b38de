/**
 * vitest globalSetup: starts the private Docker Engine (engine/dockerd.sh) and builds the stand-in
 * images into it and into podman, once, before any test file runs; stops dockerd when the run
 * ends, leaving nothing running. One test run at a time (support/docker.ts). Idempotent: warm,
 * the images are up to date in under a second.
 * Each engine whose package is missing is left out; the e2e tests that need it report the missing
 * prerequisite themselves (and fail with CI set). SSE_NO_ENGINES=1 leaves both out, for running
 * tests that need no engine (vitest run test/oracles/nginx.test.ts, say) while another run holds them.
 */
import { spawnSync } from 'node:child_process';
import { ensureImages } from './support/images.js';
import { startDockerd, stopDockerd } from './support/docker.js';

export default async function setup(): Promise<() => Promise<void>> {
  const has = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
  const engines = [...(has('/usr/sbin/dockerd') ? ['docker'] : []), ...(has('podman') ? ['podman'] : [])];
  if (process.getuid?.() !== 0 || engines.length === 0 || process.env['SSE_NO_ENGINES'] === '1')
    return async () => undefined;
  if (engines.includes('docker')) await startDockerd();
  try {
    ensureImages(engines);
  } catch (error) {
    if (engines.includes('docker')) await stopDockerd();
    throw error;
  }
  return async () => {
    if (engines.includes('docker')) await stopDockerd();
  };
}
