/**
 * vitest globalSetup: starts the private Docker Engine (engine/dockerd.sh) and builds the stand-in
 * images into it and into podman, once, before any test file runs; stops dockerd when the run
 * ends, leaving nothing running (unless another test run still uses it: support/docker.ts). Idempotent: warm, the images are up to date in under a second.
 * Without root or the engines' packages it does nothing: the e2e tests report the missing
 * prerequisite themselves (and fail with CI set).
 */
import { spawnSync } from 'node:child_process';
import { ensureImages } from './support/images.js';
import { startDockerd, stopDockerd } from './support/docker.js';

export default async function setup(): Promise<() => Promise<void>> {
  const root = process.getuid?.() === 0;
  const has = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!root || !has('dockerd') || !has('podman')) return async () => undefined;
  await startDockerd();
  ensureImages();
  return () => stopDockerd();
}
