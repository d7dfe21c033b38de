/**
 * vitest globalSetup: builds the e2e stand-in images once before any test file runs, so that
 * `npm test` alone works on a machine with the engine's Debian packages. Idempotent (<1 s warm,
 * ~1.5-2.5 min cold). Wire with `globalSetup: ['test/e2e/global-setup.ts']` in vitest.config.ts;
 * the e2e test file also calls ensureImages() itself, so it works without the wiring too.
 */
import { spawnSync } from 'node:child_process';
import { ensureImages } from './support/images.js';

export default function setup(): void {
  const root = process.getuid?.() === 0;
  const podman = spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!root || !podman) return; // the e2e tests report the missing prerequisite themselves
  ensureImages();
}
