/**
 * A repository rendered by generator-secure-stack 0.1.0 (test/fixtures/render-0.1.0, kept as
 * that version wrote it, secrets aside) upgraded by this version: edits kept, new answers
 * defaulted, secrets untouched, and the result valid for Compose and nginx.
 */
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../generators/lib/package-info.js';
import { composeSchemaErrors } from '../support/compose-schema.js';
import { freshDirectory, generate, REPO_ROOT } from '../support/generate.js';
import { nginxAvailable, nginxTestStack } from '../support/nginx.js';
import { prerequisite } from '../support/prerequisites.js';
import { readCompose, readStored } from '../support/stack-files.js';
import { snapshot } from '../support/snapshot.js';
import { legacyRedisAcl, redisAcl } from '../../generators/lib/redis-acl.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');
const FIXTURE = join(REPO_ROOT, 'test/fixtures/render-0.1.0');

it('upgrades a 0.1.0 render, keeping user edits and secrets', async () => {
  const directory = freshDirectory();
  cpSync(FIXTURE, directory, { recursive: true });
  chmodSync(join(directory, 'secrets'), 0o700);
  // The secrets that 0.1.0 generated (the fixture keeps none): any content, never to change.
  // The ACL is the one 0.1.0 derived from that Redis password: one user, default, allowed everything.
  for (const [file, value] of [
    ['django_secret_key.txt', 'k'.repeat(64)],
    ['db_password.txt', 'p'.repeat(40)],
    ['redis_password.txt', 'r'.repeat(40)],
    ['redis_users.acl', legacyRedisAcl('r'.repeat(40))],
  ]) {
    writeFileSync(join(directory, 'secrets', file!), value!, { mode: 0o444 });
  }
  const secretsBefore = snapshot(join(directory, 'secrets'));
  const compose = join(directory, 'compose.yaml');
  writeFileSync(
    compose,
    readFileSync(compose, 'utf8').replace(
      '      POSTGRES_USER: "shop_app"\n      DB_PASSWORD_FILE',
      '      POSTGRES_USER: "shop_app"\n      FEATURE_FLAGS: "beta"\n      DB_PASSWORD_FILE',
    ),
  );
  const nginxConf = join(directory, 'nginx/nginx.conf');
  writeFileSync(
    nginxConf,
    readFileSync(nginxConf, 'utf8').replace('client_max_body_size 10m;', 'client_max_body_size 25m;'),
  );
  expect(JSON.parse(readFileSync(join(directory, '.secure-stack/state.json'), 'utf8')).generatorVersion).toBe('0.1.0');

  await generate({ directory });

  expect(JSON.parse(readFileSync(join(directory, '.secure-stack/state.json'), 'utf8')).generatorVersion).toBe(
    PACKAGE_VERSION,
  );
  expect(readStored(directory)).toMatchObject({
    projectName: 'shop',
    restart: 'unless-stopped',
    bindAddress: '*',
    tls: 'off',
    httpsPort: 8443,
  });
  const upgraded = readCompose(directory);
  expect(upgraded.services['backend']?.environment?.['FEATURE_FLAGS']).toBe('beta');
  expect(composeSchemaErrors(upgraded)).toEqual([]);
  expect(readFileSync(nginxConf, 'utf8')).toContain('client_max_body_size 25m;');
  expect(readFileSync(nginxConf, 'utf8')).toMatch(/server_names_hash_bucket_size \d+;/);
  if (haveNginx) expect(nginxTestStack(directory).output).toBe('');
  // Every secret kept as it was (bytes, mode, time); the ACL, which holds only hashes, now has the
  // stack's Redis users, the backend keeping its password; the healthcheck user's password is new.
  const secretsAfter = snapshot(join(directory, 'secrets'));
  for (const file of ['django_secret_key.txt', 'db_password.txt', 'redis_password.txt'])
    expect(secretsAfter[file], file).toBe(secretsBefore[file]);
  const healthcheckPassword = readFileSync(join(directory, 'secrets/redis_healthcheck_password.txt'), 'utf8');
  expect(healthcheckPassword).toMatch(/^[A-Za-z0-9]{40}$/);
  expect(readFileSync(join(directory, 'secrets/redis_users.acl'), 'utf8')).toBe(
    redisAcl('r'.repeat(40), healthcheckPassword),
  );
});
