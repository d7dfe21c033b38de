/** Memory budgets turned into server settings that stay inside the budget. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUNICORN_THREADS, gunicornWorkers, nginxSettings, postgresSettings, redisSettings } from '../generators/lib/stack/tuning.js';
import { EXAMPLE_ANSWERS_JSON, generate } from './support/generate.js';
import { readCompose } from './support/stack-files.js';

const MiB = 1024 ** 2;
const mb = (text: string) => Number.parseInt(text, 10);

describe('postgresSettings', () => {
  it.each([128, 256, 1024, 4096, 16384])('keeps shared_buffers at a quarter of %i MiB and work_mem within what is left', (limit) => {
    const settings = postgresSettings(limit * MiB);
    expect(mb(settings.sharedBuffers)).toBe(Math.floor(limit / 4));
    // Worst case: every connection runs one sort or hash at work_mem, plus shared_buffers.
    expect(mb(settings.sharedBuffers) + settings.maxConnections * mb(settings.workMem)).toBeLessThan(limit);
    expect(settings.maxConnections).toBeGreaterThanOrEqual(20);
    expect(settings.maxConnections).toBeLessThanOrEqual(200);
  });

  it('matches the design document budget of 1g', () => {
    expect(postgresSettings(1024 * MiB)).toEqual({ sharedBuffers: '256MB', effectiveCacheSize: '512MB', workMem: '1MB', maintenanceWorkMem: '64MB', maxConnections: 102, shmSize: '256m' });
  });
});

describe('redisSettings', () => {
  it('keeps a quarter of the limit as headroom and evicts least recently used keys', () => {
    expect(redisSettings(200 * MiB)).toEqual({ maxmemory: '150mb', maxmemoryPolicy: 'allkeys-lru' });
    expect(redisSettings(16 * MiB)).toEqual({ maxmemory: '12mb', maxmemoryPolicy: 'allkeys-lru' });
  });
});

describe('gunicornWorkers', () => {
  it.each([
    [128, 1],
    [256, 2],
    [512, 4],
    [1024, 8],
    [8192, 8],
  ])('gives %i MiB %i workers', (limit, workers) => {
    expect(gunicornWorkers(limit * MiB)).toBe(workers);
  });
});

describe('nginxSettings', () => {
  it('sizes workers from the budget, never from the host CPU count', () => {
    expect(nginxSettings(16 * MiB)).toEqual({ workerProcesses: 1, workerConnections: 512, upstreamKeepalive: 16 });
    expect(nginxSettings(64 * MiB)).toEqual({ workerProcesses: 2, workerConnections: 2048, upstreamKeepalive: 32 });
    expect(nginxSettings(1024 * MiB).workerProcesses).toBe(4);
  });
});

describe('the generated backend runs gunicorn as tuned', () => {
  it('with WEB_CONCURRENCY from the budget, threaded workers and no access log of its own', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    expect(readCompose(directory).services['backend']!.environment?.['WEB_CONCURRENCY']).toBe(String(gunicornWorkers(512 * MiB)));
    // Exec form: the CMD line must be a JSON array for Docker to run it without a shell. serve.sh
    // runs the rest of it (and passes the stop signal on after the drain).
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(directory, 'backend/Dockerfile'), 'utf8'))?.[1];
    const [shell, script, ...argv] = JSON.parse(cmd ?? 'null') as string[];
    const option = (name: string) => argv[argv.indexOf(name) + 1];
    expect([shell, script]).toEqual(['sh', 'serve.sh']);
    expect(argv[0]).toBe('gunicorn');
    expect(option('--worker-class')).toBe('gthread');
    expect(option('--threads')).toBe(String(GUNICORN_THREADS));
    expect(argv).not.toContain('--access-logfile');
  });
});
