import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Generator runs change process.cwd(); separate processes keep test files from colliding.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Builds the end-to-end stand-in images once, idempotently (warm: under a second).
    globalSetup: ['test/e2e/global-setup.ts'],
  },
});
