/** Re-running inside a generated repository: user edits and secrets survive, drift is detected. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../generators/lib/package-info.js';
import { composeSchemaErrors } from '../support/compose-schema.js';
import { EXAMPLE_ANSWERS_JSON, failure, generate, REPO_ROOT } from '../support/generate.js';
import { nginxAvailable, nginxTestStack, nginxTestSwarm } from '../support/nginx.js';
import { prerequisite } from '../support/prerequisites.js';
import { snapshot } from '../support/snapshot.js';
import { readCompose, readStackFile, readStored } from '../support/stack-files.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');

const read = (directory: string, path: string) => readFileSync(join(directory, path), 'utf8');
const edit = (directory: string, path: string, from: string, to: string) => {
  const content = read(directory, path);
  expect(content, `${path} holds ${from}`).toContain(from);
  writeFileSync(join(directory, path), content.replace(from, to));
};
const secretsOf = (directory: string) =>
  Object.fromEntries(Object.entries(snapshot(join(directory, 'secrets'))).map(([path, entry]) => [path, entry]));

/** A re-run through the built bin, to read what it tells the user. */
async function generateWithOutput(directory: string): Promise<{ code: number | null; output: string }> {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js')], {
    cwd: directory,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('re-running the generator', () => {
  it('changes nothing on disk with the same answers and templates, mtimes included', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const before = snapshot(directory);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await generate({ directory });
    expect(snapshot(directory)).toEqual(before);
  });

  it('asks nothing when answers are stored: the prompts are not reached', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const before = snapshot(directory);
    // Interactive, with prompt answers that would change everything: stored answers win.
    await generate({ directory, prompts: { 'project-name': 'other', 'http-port': '1234', routes: '/x' } });
    expect(snapshot(directory)).toEqual(before);
  });

  it('keeps user edits in compose.yaml and nginx.conf while the upgrade changes other lines of them', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const secrets = secretsOf(directory);
    edit(
      directory,
      'compose.yaml',
      '      POSTGRES_USER: "shop_app"\n      DB_PASSWORD_FILE',
      '      POSTGRES_USER: "shop_app"\n      FEATURE_FLAGS: "beta"\n      DB_PASSWORD_FILE',
    );
    edit(directory, 'nginx/nginx.conf', 'client_max_body_size 10m;', 'client_max_body_size 25m;');

    await generate({ directory, options: { 'http-port': '9000', routes: '/api,/admin,/v2' } });

    const compose = readCompose(directory);
    expect(compose.services['nginx']?.ports).toEqual(['9000:8080']);
    expect(compose.services['backend']?.environment?.['FEATURE_FLAGS']).toBe('beta');
    expect(composeSchemaErrors(compose)).toEqual([]);
    const nginx = read(directory, 'nginx/nginx.conf');
    expect(nginx).toContain('client_max_body_size 25m;');
    expect(nginx).toContain('location /v2/ {');
    if (haveNginx) expect(nginxTestStack(directory).output).toBe('');
    expect(read(directory, 'backend/config/routes.py')).toContain('"/v2"');
    expect(secretsOf(directory)).toEqual(secrets);
  });

  it('writes conflict markers, lists the file and exits 3 when an edit and the upgrade touch the same lines', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    edit(directory, 'compose.yaml', '      - "8080:8080"', '      - "127.0.0.1:8080:8080"');
    const error = await failure(generate({ directory, options: { 'http-port': '9000' } }));
    expect(error.code).toBe(3);
    expect(error.message).toMatch(/Merge conflicts: .*\n {2}compose\.yaml\n/);
    expect(read(directory, 'compose.yaml')).toMatch(
      /<<<<<<< yours \(on disk\)\n {6}- "127\.0\.0\.1:8080:8080"\n=======\n {6}- "9000:8080"\n>>>>>>> new template \(generator-secure-stack [0-9.]+\)\n/,
    );
    // Files without conflicts were still upgraded.
    expect(read(directory, 'README.md')).toContain(':9000');
    // Re-running with the conflict unresolved reports it again and changes nothing.
    const before = snapshot(directory);
    expect((await failure(generate({ directory }))).code).toBe(3);
    expect(snapshot(directory)).toEqual(before);
  });

  it('leaves a generated file the user deleted deleted', async () => {
    const directory = await generate();
    rmSync(join(directory, 'backend/.dockerignore'));
    rmSync(join(directory, 'backend/app/views.py'));
    await generate({ directory, options: { routes: '/api,/other' } });
    expect(() => read(directory, 'backend/.dockerignore')).toThrow(/ENOENT/);
    expect(() => read(directory, 'backend/app/views.py')).toThrow(/ENOENT/);
  });

  it('follows a changed answer (redis off) without touching a secret', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const secrets = secretsOf(directory);
    await generate({ directory, options: { redis: false } });
    expect(readCompose(directory).services).not.toHaveProperty('redis');
    expect(read(directory, 'backend/config/settings.py')).not.toMatch(/redis/i);
    expect(readStored(directory)['redis']).toBe(false);
    expect(secretsOf(directory)).toEqual(secrets);
  });

  it('upgrades a repository rendered by an older version: edits kept, version recorded', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    // Make the repository look rendered by 0.0.1: an older state and an older compose.yaml base.
    const statePath = join(directory, '.secure-stack/state.json');
    writeFileSync(
      statePath,
      read(directory, '.secure-stack/state.json').replace(/"generatorVersion": "[^"]+"/, '"generatorVersion": "0.0.1"'),
    );
    const baseCompose = join(directory, '.secure-stack/rendered/compose.yaml.base');
    const oldRender = read(directory, '.secure-stack/rendered/compose.yaml.base').replace(
      'restart: unless-stopped',
      'restart: always',
    );
    writeFileSync(baseCompose, oldRender);
    writeFileSync(
      join(directory, 'compose.yaml'),
      oldRender.replace('  # PostgreSQL data directory\n', '  # PostgreSQL data directory (backed up nightly)\n'),
    );

    await generate({ directory });

    const compose = read(directory, 'compose.yaml');
    expect(compose).not.toContain('restart: always');
    expect(compose).toContain('(backed up nightly)');
    expect(JSON.parse(read(directory, '.secure-stack/state.json')).generatorVersion).toBe(PACKAGE_VERSION);
  });

  // Versions up to 0.2.0 wrote DH parameters for TLS stacks; Mozilla's profile 6.0 has no DHE suite.
  const withOldDhParams = async (edited: boolean) => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, tls: 'self-signed' } });
    const pem = '-----BEGIN DH PARAMETERS-----\nMIIBCAKCAQEA\n-----END DH PARAMETERS-----\n';
    writeFileSync(join(directory, '.secure-stack/rendered/nginx/dhparam.pem.base'), pem);
    writeFileSync(join(directory, 'nginx/dhparam.pem'), edited ? `${pem}# mine\n` : pem);
    const statePath = join(directory, '.secure-stack/state.json');
    const state = JSON.parse(read(directory, '.secure-stack/state.json')) as { files: Record<string, string> };
    state.files['nginx/dhparam.pem'] = 'generator';
    writeFileSync(statePath, JSON.stringify(state, null, 2));
    await generate({ directory });
    return directory;
  };

  it('leaves a TLS key that older versions wrote 0444 as it is, and says when to make it 0400', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, tls: 'self-signed' } });
    const key = join(directory, 'secrets/tls_key.pem');
    const pem = readFileSync(key, 'utf8');
    chmodSync(key, 0o444);
    const { output } = await generateWithOutput(directory);
    expect(readFileSync(key, 'utf8')).toBe(pem);
    // A restart of nginx under the old compose.yaml (no DAC_OVERRIDE) must still find it readable.
    expect(statSync(key).mode & 0o777).toBe(0o444);
    expect(output).toContain(
      "Warning: secrets/tls_key.pem can be read by every user in nginx's container, its workers too. After docker compose up -d (nginx's master can then read a key only its owner may), run: chmod 0400 secrets/tls_key.pem",
    );
    chmodSync(key, 0o400);
    expect((await generateWithOutput(directory)).output).not.toContain('tls_key.pem can be read');
  });

  it('keeps a Redis ACL the user edited, and says the users it must define', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const edited = `${readFileSync(join(directory, 'secrets/redis_users.acl'), 'utf8')}user ops on #${'0'.repeat(64)} +info\n`;
    rmSync(join(directory, 'secrets/redis_users.acl'));
    writeFileSync(join(directory, 'secrets/redis_users.acl'), edited, { mode: 0o444 });
    const { output } = await generateWithOutput(directory);
    expect(readFileSync(join(directory, 'secrets/redis_users.acl'), 'utf8')).toBe(edited);
    expect(output).toMatch(
      /secrets\/redis_users\.acl was edited, so it is left as it is: it must define the users "backend" and "healthcheck"/,
    );
  });

  it('derives the Redis ACL again when it was deleted (a password rotation), from the password files as they are', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const acl = readFileSync(join(directory, 'secrets/redis_users.acl'), 'utf8');
    rmSync(join(directory, 'secrets/redis_users.acl'));
    await generate({ directory });
    expect(readFileSync(join(directory, 'secrets/redis_users.acl'), 'utf8')).toBe(acl);
  });

  it('removes the nginx/dhparam.pem an older version wrote for TLS, and its pristine copy', async () => {
    const directory = await withOldDhParams(false);
    expect(existsSync(join(directory, 'nginx/dhparam.pem'))).toBe(false);
    expect(existsSync(join(directory, '.secure-stack/rendered/nginx/dhparam.pem.base'))).toBe(false);
    expect(JSON.parse(read(directory, '.secure-stack/state.json')).files['nginx/dhparam.pem']).toBeUndefined();
    expect(read(directory, 'nginx/nginx.conf')).not.toContain('dhparam');
    if (haveNginx) expect(nginxTestStack(directory).output).toBe('');
  });

  it('keeps an nginx/dhparam.pem the user changed', async () => {
    const directory = await withOldDhParams(true);
    expect(read(directory, 'nginx/dhparam.pem')).toContain('# mine');
  });
});

describe('re-running a repository with the Swarm target', () => {
  const swarmRepository = () => generate({ options: { answers: EXAMPLE_ANSWERS_JSON, swarm: true } });

  it('keeps a user edit in stack.yaml and nginx.swarm.conf while the upgrade changes other lines of them', async () => {
    const directory = await swarmRepository();
    edit(
      directory,
      'stack.yaml',
      '      POSTGRES_USER: "shop_app"\n      DB_PASSWORD_FILE',
      '      POSTGRES_USER: "shop_app"\n      FEATURE_FLAGS: "beta"\n      DB_PASSWORD_FILE',
    );
    edit(directory, 'nginx/nginx.swarm.conf', 'client_max_body_size 10m;', 'client_max_body_size 25m;');

    await generate({ directory, options: { 'http-port': '9000', 'backend-replicas': '4', routes: '/api,/admin,/v2' } });

    const stack = readStackFile(directory);
    expect(stack.services['nginx']?.ports).toEqual([{ target: 8080, published: 9000, protocol: 'tcp', mode: 'host' }]);
    expect(stack.services['backend']?.deploy).toMatchObject({ replicas: 4 });
    expect(stack.services['backend']?.environment?.['FEATURE_FLAGS']).toBe('beta');
    expect(composeSchemaErrors(stack)).toEqual([]);
    const nginx = read(directory, 'nginx/nginx.swarm.conf');
    expect(nginx).toContain('client_max_body_size 25m;');
    expect(nginx).toContain('location /v2/ {');
    if (haveNginx) expect(nginxTestSwarm(directory).output).toBe('');
  });

  it('--check reports drift in stack.yaml when an answer changes it, and writes nothing', async () => {
    const directory = await swarmRepository();
    await generate({ directory, options: { check: true } });
    const before = snapshot(directory);
    const error = await failure(generate({ directory, options: { check: true, 'backend-replicas': '3' } }));
    expect(error.code).toBe(4);
    const listed = error.message
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .filter((path) => !path.startsWith('.secure-stack/'));
    // Replicas are the Swarm target's alone: Compose, and both nginx configs, stay as they are.
    expect(listed.sort()).toEqual(['.yo-rc.json', 'README.md', 'stack.yaml']);
    expect(snapshot(directory)).toEqual(before);
  });

  it('removes stack.yaml and nginx.swarm.conf when swarm is turned off, if they are as generated', async () => {
    const directory = await swarmRepository();
    await generate({ directory, options: { swarm: false } });
    expect(existsSync(join(directory, 'stack.yaml'))).toBe(false);
    expect(existsSync(join(directory, 'nginx/nginx.swarm.conf'))).toBe(false);
    expect(existsSync(join(directory, '.secure-stack/rendered/stack.yaml.base'))).toBe(false);
    expect(read(directory, 'README.md')).not.toContain('Deploy to a swarm');
    expect(readStored(directory)['swarm']).toBe(false);
  });

  it('keeps a stack.yaml the user changed when swarm is turned off', async () => {
    const directory = await swarmRepository();
    edit(directory, 'stack.yaml', 'replicas: 1\n      # DNS round robin', 'replicas: 2\n      # DNS round robin');
    await generate({ directory, options: { swarm: false } });
    expect(read(directory, 'stack.yaml')).toContain('replicas: 2');
    expect(existsSync(join(directory, 'nginx/nginx.swarm.conf'))).toBe(false);
  });
});

describe('--check and --dry-run', () => {
  it('--check passes on a fresh repository and with a user edit the templates would keep', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    edit(directory, 'nginx/nginx.conf', 'client_max_body_size 10m;', 'client_max_body_size 25m;');
    const before = snapshot(directory);
    await generate({ directory, options: { check: true } });
    expect(snapshot(directory)).toEqual(before);
  });

  it('--check exits 4 listing the files that differ, writing nothing', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    rmSync(join(directory, 'nginx/nginx.conf'));
    rmSync(join(directory, '.secure-stack/state.json'));
    const before = snapshot(directory);
    const error = await failure(generate({ directory, options: { check: true, 'http-port': '9000' } }));
    expect(error.code).toBe(4);
    expect(error.message).toMatch(/^Drift: a run would change \d+ files:/);
    for (const path of ['compose.yaml', 'nginx/nginx.conf', '.yo-rc.json', '.secure-stack/state.json'])
      expect(error.message).toContain(`\n  ${path}`);
    expect(snapshot(directory)).toEqual(before);
  });

  it('--dry-run lists what a run would do and writes nothing', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const before = snapshot(directory);
    await generate({ directory, options: { 'dry-run': true, routes: '/api,/v9' } });
    expect(snapshot(directory)).toEqual(before);
  });
});
