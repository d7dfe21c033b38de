/** Builds the stand-in images (idempotent: warm runs take under a second), one build at a time. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { IMAGES } from '../../../generators/lib/stack/images.js';

const ENGINE_DIR = new URL('../engine/', import.meta.url).pathname;

/**
 * Builds the images (when their recipe changed) and imports them into each of `engines`. In the
 * Docker Engine each stand-in also answers to its pinned digest, as the generated stacks name it.
 */
export function ensureImages(engines: string[] = ['docker', 'podman']): void {
  const runDirectory = process.env['SSE_RUN_DIR'] ?? '/run/secure-stack-e2e';
  mkdirSync(runDirectory, { recursive: true });
  // flock: a globalSetup and a test file (or two vitest runs) never build at the same time.
  execFileSync('flock', [`${runDirectory}/build-images.lock`, `${ENGINE_DIR}build-images.sh`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 900_000,
    env: { ...process.env, SSE_IMAGE_ENGINES: engines.join(' ') },
  });
  if (engines.includes('docker')) {
    execFileSync(
      'flock',
      [`${runDirectory}/build-images.lock`, `${ENGINE_DIR}dockerd.sh`, 'digests', ...Object.values(IMAGES)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 300_000,
      },
    );
  }
}
