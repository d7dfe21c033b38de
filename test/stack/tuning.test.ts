/** Memory budgets turned into server settings that stay inside the budget. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMemorySize } from '../../generators/lib/answers/memory-size.js';
import {
  entryLimits,
  GUNICORN_THREADS,
  LIMIT_CONN_MAX,
  gunicornWorkers,
  nginxSettings,
  postgresSettings,
  redisSettings,
  tmpfsMount,
} from '../../generators/lib/stack/tuning.js';
import { EXAMPLE_ANSWERS_JSON, generate } from '../support/generate.js';
import { readCompose } from '../support/stack-files.js';

const MiB = 1024 ** 2;
const mb = (text: string) => Number.parseInt(text, 10);

describe('postgresSettings', () => {
  it.each([128, 256, 1024, 4096, 16384])(
    'keeps shared_buffers at a quarter of %i MiB and work_mem within what is left',
    (limit) => {
      const settings = postgresSettings(limit * MiB);
      expect(mb(settings.sharedBuffers)).toBe(Math.floor(limit / 4));
      // Worst case: every connection runs one sort or hash at work_mem, plus shared_buffers.
      expect(mb(settings.sharedBuffers) + settings.maxConnections * mb(settings.workMem)).toBeLessThan(limit);
      expect(settings.maxConnections).toBeGreaterThanOrEqual(20);
      expect(settings.maxConnections).toBeLessThanOrEqual(200);
    },
  );

  it('matches the design document budget of 1g', () => {
    expect(postgresSettings(1024 * MiB)).toEqual({
      sharedBuffers: '256MB',
      effectiveCacheSize: '512MB',
      workMem: '1MB',
      maintenanceWorkMem: '64MB',
      maxConnections: 102,
      shmSize: '256m',
    });
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

describe('entryLimits', () => {
  const kib = (text: string) => Number(/^(\d+)k$/.exec(text)![1]);
  it.each([16, 50, 64, 256, 1024])('keeps what one client can make nginx hold within %i MiB', (limit) => {
    const scratch = tmpfsMount('/tmp', limit * MiB).sizeBytes;
    const limits = entryLimits(limit * MiB, parseMemorySize('1m')!, 40);
    // A buffered response of a slow reader takes at most a quarter of /tmp, and /tmp is a quarter of the budget.
    expect(kib(limits.proxyMaxTempFileSize) * 1024).toBe(Math.floor(scratch / 4 / 1024) * 1024);
    expect(scratch).toBeLessThanOrEqual((limit * MiB) / 4);
    expect(limits.clientBodyBufferSize).toBe('16k');
    const { workerProcesses, workerConnections } = nginxSettings(limit * MiB);
    expect(limits.connectionsPerClient).toBeLessThanOrEqual((workerProcesses * workerConnections) / 8);
  });

  it('lets a client hold twice as many connections as its burst, at least 10', () => {
    expect(entryLimits(64 * MiB, parseMemorySize('10m')!, 40).connectionsPerClient).toBe(80);
    expect(entryLimits(64 * MiB, parseMemorySize('10m')!, 2).connectionsPerClient).toBe(10);
    // 16m: one worker of 512 connections, so a client gets at most 64 however high its rate.
    expect(entryLimits(16 * MiB, parseMemorySize('1m')!, 2000).connectionsPerClient).toBe(64);
  });

  it('lets a client have as many large bodies in flight as /tmp holds, at least one', () => {
    // 64m: /tmp 16m; 10m bodies: one at a time. 256m: /tmp 64m; 4m bodies: sixteen.
    expect(entryLimits(64 * MiB, parseMemorySize('10m')!, 40).largeBodiesPerClient).toBe(1);
    expect(entryLimits(256 * MiB, parseMemorySize('4m')!, 40).largeBodiesPerClient).toBe(16);
    expect(entryLimits(16 * MiB, parseMemorySize('4m')!, 40).largeBodiesPerClient).toBe(1);
    // Found by the property tests: a 1k body in a 64m /tmp made 65536, which nginx refuses; now
    // no more large bodies than connections, and those far below nginx's limit whatever the budget.
    const tiny = entryLimits(1706 * MiB, parseMemorySize('1k')!, 199_974);
    expect(tiny.largeBodiesPerClient).toBeLessThanOrEqual(tiny.connectionsPerClient);
    expect(tiny.largeBodiesPerClient).toBeLessThanOrEqual(LIMIT_CONN_MAX);
    expect(entryLimits(1024 * 1024 * MiB, parseMemorySize('1k')!, 199_974).connectionsPerClient).toBeLessThanOrEqual(
      LIMIT_CONN_MAX,
    );
    expect(entryLimits(64 * MiB, parseMemorySize('1k')!, 40).largeBodiesPerClient).toBe(80);
    // The Content-Length pattern: 17000 bytes and up, nothing below (the memory buffer is 16k).
    const large = new RegExp(entryLimits(64 * MiB, parseMemorySize('10m')!, 40).largeBodyLength);
    for (const length of ['17000', '19999', '20000', '99999', '100000', '10485760'])
      expect(large.test(length), length).toBe(true);
    for (const length of ['', '0', '16384', '16999', '9999', '017000']) expect(large.test(length), length).toBe(false);
  });

  it('writes the body limit in nginx notation: plain bytes have no unit', () => {
    expect(entryLimits(64 * MiB, parseMemorySize('10m')!, 40).maxBodySize).toBe('10m');
    expect(entryLimits(64 * MiB, parseMemorySize('4096b')!, 40).maxBodySize).toBe('4096');
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
  it('with WEB_CONCURRENCY from the budget, threaded workers, no access log of its own and idle connections kept longer than nginx keeps them', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    expect(readCompose(directory).services['backend']!.environment?.['WEB_CONCURRENCY']).toBe(
      String(gunicornWorkers(512 * MiB)),
    );
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
    // nginx drops an idle upstream connection before gunicorn does, never the other way round.
    const nginxConfig = readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8');
    const upstream = /upstream backend \{([^}]*)\}/.exec(nginxConfig)?.[1] ?? '';
    const nginxIdle = Number(/^\s*keepalive_timeout (\d+)s;$/m.exec(upstream)?.[1]);
    expect(nginxIdle).toBeGreaterThan(0);
    expect(Number(option('--keep-alive'))).toBeGreaterThan(nginxIdle);
  });
});

describe('the body limit', () => {
  const bodyLimit = (directory: string) =>
    /^\s*client_max_body_size (\S+);$/m.exec(readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8'))?.[1];
  const stored = (directory: string) =>
    (JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8')) as Record<string, Record<string, unknown>>)[
      'generator-secure-stack'
    ]!['maxBodySize'];

  it("defaults to 10m, or to nginx's /tmp when a small budget makes that smaller, and is stored", async () => {
    const example = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    expect([bodyLimit(example), stored(example)]).toEqual(['10m', '10m']);
    const small = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, 'memory-nginx': '16m' } });
    expect([bodyLimit(small), stored(small)]).toEqual(['4m', '4m']);
  });

  it('takes the answer', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, 'max-body-size': '512k' } });
    expect(bodyLimit(directory)).toBe('512k');
  });
});
