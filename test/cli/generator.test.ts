/** Generator runs through yeoman-test: every way of giving answers, and every way of getting them wrong. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_ANSWERS_JSON, EXAMPLE_ANSWERS_YAML, freshDirectory, generate } from '../support/generate.js';
import { readCompose, readStored } from '../support/stack-files.js';
import { readTree } from '../support/tree.js';

const read = (directory: string, path: string) => readFileSync(join(directory, path), 'utf8');

describe('answer sources', () => {
  it('takes interactive answers from the prompts', async () => {
    const directory = await generate({
      prompts: {
        'project-name': 'asked',
        'db-name': 'asked_db',
        'http-port': '9001',
        redis: false,
        'memory-postgres': '256M',
        routes: '/one,/two/',
      },
    });
    expect(readStored(directory)).toMatchObject({
      projectName: 'asked',
      dbName: 'asked_db',
      dbUser: 'app',
      httpPort: 9001,
      redis: false,
      memory: { postgres: '256m' },
      routes: [{ path: '/one' }, { path: '/two' }],
    });
    expect(readCompose(directory).services).not.toHaveProperty('redis');
  });

  it('renders the same stack from the JSON and the YAML example (string shorthand for routes)', async () => {
    const fromJson = readTree(await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } }));
    const fromYaml = readTree(await generate({ options: { answers: EXAMPLE_ANSWERS_YAML } }));
    const withoutSecrets = (tree: Map<string, string>) =>
      [...tree].filter(([path]) => !path.startsWith('secrets/') || path.endsWith('README.md'));
    expect(withoutSecrets(fromYaml)).toEqual(withoutSecrets(fromJson));
    // The example leaves out the answers it takes the defaults of; .yo-rc.json stores them too.
    expect(JSON.parse(fromJson.get('.yo-rc.json')!)['generator-secure-stack']).toEqual({
      ...JSON.parse(readFileSync(EXAMPLE_ANSWERS_JSON, 'utf8')),
      hstsPreload: false,
      maxBodySize: '10m',
      publicHealth: false,
    });
  });

  it('lets flags override the answers file', async () => {
    const directory = await generate({
      options: { answers: EXAMPLE_ANSWERS_JSON, 'http-port': '9090', 'memory-nginx': '32m', routes: '/v1' },
    });
    const stored = readStored(directory);
    expect(stored).toMatchObject({
      projectName: 'shop',
      httpPort: 9090,
      memory: { nginx: '32m', backend: '512m' },
      routes: [{ path: '/v1' }],
    });
    expect(readCompose(directory).services['nginx']?.ports).toEqual(['9090:8080']);
  });

  it('re-uses the answers stored in .yo-rc.json, below flags', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    await generate({ directory, options: { 'server-name': 'shop.example.com' } });
    expect(readStored(directory)).toMatchObject({
      projectName: 'shop',
      dbUser: 'shop_app',
      serverName: 'shop.example.com',
    });
  });

  it('leaves Redis out entirely when redis is false', async () => {
    const directory = await generate({ options: { redis: false } });
    const tree = readTree(directory);
    expect(Object.keys(readCompose(directory).services).sort()).toEqual(['backend', 'nginx', 'postgres']);
    expect([...tree.keys()].filter((path) => /redis/i.test(path))).toEqual([]);
    for (const path of [
      'backend/requirements.txt',
      'backend/config/settings.py',
      'backend/config/health.py',
      'compose.yaml',
    ]) {
      expect(tree.get(path), path).not.toMatch(/redis/i);
    }
  });

  it('accepts 500 routes', async () => {
    const routes = Array.from({ length: 500 }, (_, i) => `/r${i}`);
    const directory = await generate({ options: { routes: routes.join(',') } });
    expect(read(directory, 'backend/config/routes.py').match(/^ {4}"\/r\d+",$/gm)).toHaveLength(500);
  });

  it('uses a provided certificate where it lies, git-ignores its key, and generates no TLS secret', async () => {
    const directory = freshDirectory();
    mkdirSync(join(directory, 'certs'));
    writeFileSync(join(directory, 'certs/site.crt'), 'certificate\n');
    writeFileSync(join(directory, 'certs/site.key'), 'key\n');
    await generate({
      directory,
      options: { tls: 'provided', 'tls-cert': 'certs/site.crt', 'tls-key': 'certs/site.key' },
    });
    expect(readCompose(directory).secrets).toMatchObject({
      tls_cert: { file: './certs/site.crt' },
      tls_key: { file: './certs/site.key' },
    });
    expect(readdirSync(join(directory, 'secrets')).filter((name) => name.startsWith('tls'))).toEqual([]);
    execFileSync('git', ['init', '--quiet'], { cwd: directory });
    expect(() => execFileSync('git', ['check-ignore', '--quiet', 'certs/site.key'], { cwd: directory })).not.toThrow();
    expect(() => execFileSync('git', ['check-ignore', '--quiet', 'certs/site.crt'], { cwd: directory })).toThrow();
  });

  it('never overwrites a secret, not even with --force', async () => {
    const directory = await generate();
    const before = [...readTree(directory)].filter(([path]) => path.startsWith('secrets/'));
    await generate({ directory, options: { force: true } });
    const after = [...readTree(directory)].filter(([path]) => path.startsWith('secrets/'));
    expect(after).toEqual(before);
  });

  it('keeps a user-owned file the user changed', async () => {
    const directory = await generate();
    writeFileSync(join(directory, 'backend/app/views.py'), '# mine\n');
    await generate({ directory, options: { force: true } });
    expect(read(directory, 'backend/app/views.py')).toBe('# mine\n');
  });
});

describe('invalid answers', () => {
  async function rejected(
    options: Record<string, unknown>,
    answersFile?: string,
  ): Promise<{ message: string; code: unknown; directory: string }> {
    const directory = freshDirectory();
    if (answersFile !== undefined) {
      writeFileSync(join(directory, '..', 'answers.yaml'), answersFile);
      options = { ...options, answers: '../answers.yaml' };
    }
    const error = await generate({ directory, options }).then(
      () => undefined,
      (caught: Error & { code?: unknown }) => caught,
    );
    if (!error) throw new Error('the run was expected to fail');
    return { message: error.message, code: error.code, directory };
  }

  const CASES: [string, Record<string, unknown>, string | undefined, RegExp][] = [
    ['projectName pattern', { 'project-name': 'My App' }, undefined, /projectName: "My App" must match \^\[a-z0-9\]/],
    [
      'projectName length',
      { 'project-name': 'a'.repeat(64) },
      undefined,
      /projectName: "a{64}" must be at most 63 characters/,
    ],
    ['dbName identifier', { 'db-name': '1db' }, undefined, /dbName: "1db" must be a PostgreSQL identifier/],
    ['dbName length', { 'db-name': 'd'.repeat(64) }, undefined, /dbName: .* must be at most 63 characters/],
    ['dbUser pg_ prefix', { 'db-user': 'pg_app' }, undefined, /dbUser: "pg_app" must not start with "pg_"/],
    [
      'serverName host name',
      { 'server-name': 'bad_host' },
      undefined,
      /serverName: "bad_host" must be an RFC 1123 host name/,
    ],
    ['httpPort range', { 'http-port': '70000' }, undefined, /httpPort: "70000" must be an integer from 1 to 65535/],
    [
      'httpPort type in a file',
      {},
      'httpPort: "8080"\n',
      /httpPort: "8080" must be an integer from 1 to 65535 \(from --answers/,
    ],
    ['redis type in a file', {}, 'redis: yes\n', /redis: "yes" must be true or false/],
    [
      'memory format',
      { 'memory-backend': '1.5g' },
      undefined,
      /memory\.backend: "1\.5g" must be a whole number followed by a unit/,
    ],
    [
      'memory floor',
      { 'memory-postgres': '64m' },
      undefined,
      /memory\.postgres: "64m" is below the 128m the postgres service needs to start/,
    ],
    ['route start', { routes: 'api' }, undefined, /routes: "api" item 0 \("api"\) must start with "\/"/],
    ['route characters', { routes: '/a;b' }, undefined, /may contain only A-Z a-z 0-9 \. _ ~ \/ -/],
    ['route double slash', { routes: '//x' }, undefined, /must not contain "\/\/"/],
    ['route dot segment', { routes: '/../etc' }, undefined, /must not contain a "\." or "\.\." segment/],
    ['route duplicate after normalisation', { routes: '/api,/api/' }, undefined, /duplicates "\/api"/],
    ['route health collision', { routes: '/health' }, undefined, /collides with the built-in \/health\/ endpoint/],
    [
      'routes count',
      { routes: Array.from({ length: 501 }, (_, i) => `/r${i}`).join(',') },
      undefined,
      /must hold at most 500 routes \(got 501\)/,
    ],
    ['route object key', {}, 'routes:\n  - { path: /a, upstream: x }\n', /has unknown key "upstream"/],
    [
      'cpus value',
      { 'cpus-backend': '0.001' },
      undefined,
      /cpus\.backend: "0\.001" must be a number of CPUs from 0\.01 to 256/,
    ],
    ['rateLimit range', { 'rate-limit': '0' }, undefined, /rateLimit: "0" must be an integer from 1 to 100000/],
    [
      'restart choice',
      { restart: 'sometimes' },
      undefined,
      /restart: "sometimes" must be one of "unless-stopped", "always", "on-failure", "no"/,
    ],
    [
      'bindAddress',
      { 'bind-address': '127.0.0.300' },
      undefined,
      /bindAddress: "127\.0\.0\.300" must be "\*" \(all interfaces\) or an IPv4 or IPv6 address/,
    ],
    ['tls choice', { tls: 'on' }, undefined, /tls: "on" must be one of "off", "self-signed", "provided"/],
    [
      'tls provided without its files',
      { tls: 'provided' },
      undefined,
      /tlsCert: null is required when tls is "provided"\n {2}- tlsKey: null is required/,
    ],
    [
      'tlsKey path',
      { tls: 'provided', 'tls-cert': 'c.pem', 'tls-key': '../k.pem' },
      undefined,
      /tlsKey: "\.\.\/k\.pem" must be a file path .* without "\." or "\.\." segments/,
    ],
    [
      'httpsPort equal to httpPort',
      { tls: 'self-signed', 'https-port': '8080' },
      undefined,
      /httpsPort: 8080 must differ from httpPort/,
    ],
    [
      'hstsPreload with a self-signed certificate',
      { tls: 'self-signed', 'hsts-preload': true },
      undefined,
      /hstsPreload: true needs tls "provided": a self-signed certificate cannot be preloaded/,
    ],
    [
      'hstsPreload without TLS',
      { 'hsts-preload': true },
      undefined,
      /hstsPreload: true needs tls "provided": a stack without HTTPS cannot be preloaded/,
    ],
    [
      "maxBodySize larger than nginx's /tmp",
      { 'memory-nginx': '16m', 'max-body-size': '10m' },
      undefined,
      /maxBodySize: "10m" must fit nginx's \/tmp, 4m \(a quarter of memory\.nginx 16m, at most 64m\): lower it or raise memory\.nginx/,
    ],
    [
      'maxBodySize format',
      { 'max-body-size': '10 MB' },
      undefined,
      /maxBodySize: "10 MB" must be a whole number followed by a unit/,
    ],
    ['maxBodySize floor', { 'max-body-size': '512b' }, undefined, /maxBodySize: "512b" is below 1k/],
    ['unknown key in a file', {}, 'projectname: x\n', /projectname: "x" is not a known answer/],
    ['unknown memory key', {}, 'memory:\n  nginx: 64m\n  celery: 64m\n', /memory\.celery: "64m" is not a known answer/],
  ];

  it.each(CASES)('rejects %s, names field, value and rule, writes nothing', async (_name, options, file, expected) => {
    const { message, code, directory } = await rejected(options, file);
    expect(message).toMatch(expected);
    expect(message).toMatch(/nothing was written/);
    expect(code).toBe(1);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('reports every problem at once', async () => {
    const { message } = await rejected({ 'project-name': 'A', 'http-port': '0', 'db-user': 'pg_x' });
    expect(message).toMatch(/\(3 problems\)/);
    for (const field of ['projectName', 'httpPort', 'dbUser']) expect(message).toContain(`  - ${field}:`);
  });

  it('rejects malformed YAML with its line and column', async () => {
    const { message, code, directory } = await rejected({}, 'projectName: x\nroutes: [\n');
    expect(message).toMatch(/not valid JSON or YAML at line \d+, column \d+/);
    expect(code).toBe(1);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('rejects an unknown flag as a usage error, writing nothing', async () => {
    const directory = freshDirectory();
    const error = await generate({ directory, args: ['--http-prot=9000'] }).then(
      () => undefined,
      (caught: Error & { code?: unknown }) => caught,
    );
    expect(error?.message).toMatch(/Unknown option: --http-prot\./);
    expect(error?.code).toBe(2);
    expect(readdirSync(directory)).toEqual([]);
  });
});
