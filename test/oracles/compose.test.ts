/**
 * The generated compose.yaml against the Compose Specification schema and the security
 * structure the design asks for, on several answer sets.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeSchemaErrors } from '../support/compose-schema.js';
import { EXAMPLE_ANSWERS_JSON, generate } from '../support/generate.js';
import { readCompose, readStored } from '../support/stack-files.js';
import { readTree } from '../support/tree.js';

const SCENARIOS: Record<string, Record<string, unknown>> = {
  'example answers': { answers: EXAMPLE_ANSWERS_JSON },
  defaults: {},
  'redis off': { 'no-redis': true, redis: false },
  'many routes, custom port and names': {
    'project-name': 'billing-2',
    'db-name': 'Billing_Data',
    'db-user': 'billing',
    'server-name': 'billing.example.org',
    'http-port': '18080',
    routes: Array.from({ length: 60 }, (_, i) => `/v${i}/items`).join(','),
  },
  'tls self-signed, bound to loopback, restart "no"': {
    answers: EXAMPLE_ANSWERS_JSON,
    tls: 'self-signed',
    'bind-address': '127.0.0.1',
    restart: 'no',
  },
  'bound to IPv6 loopback, restart on-failure, CPU limits': {
    'bind-address': '::1',
    restart: 'on-failure',
    'cpus-backend': '1.5',
    'cpus-nginx': '0.25',
  },
};

describe.each(Object.entries(SCENARIOS))('compose.yaml for %s', (_name, options) => {
  let directory: string;
  const compose = () => readCompose(directory);

  it('is generated', async () => {
    directory = await generate({ options });
  });

  it('validates against the Compose Specification schema, without a version key', () => {
    expect(composeSchemaErrors(compose())).toEqual([]);
    expect(compose()).not.toHaveProperty('version');
  });

  it('puts only nginx on the public network, and the data stores on the internal one', () => {
    const { services, networks } = compose();
    expect(networks['backend-network']).toMatchObject({ internal: true });
    expect(networks['frontend-network']?.internal).toBeUndefined();
    expect(services['nginx']?.networks).toEqual(['frontend-network']);
    expect(services['backend']?.networks).toEqual(['frontend-network', 'backend-network']);
    expect(services['postgres']?.networks).toEqual(['backend-network']);
    const onPublic = Object.entries(services)
      .filter(([, s]) => s.networks?.includes('frontend-network'))
      .map(([n]) => n);
    expect(onPublic.sort()).toEqual(['backend', 'nginx']);
    if (services['redis']) expect(services['redis'].networks).toEqual(['backend-network']);
  });

  it('publishes a port from nginx only, the answered one', () => {
    const { services } = compose();
    const stored = readStored(directory);
    const publishing = Object.entries(services).filter(([, s]) => s.ports !== undefined);
    expect(publishing.map(([name]) => name)).toEqual(['nginx']);
    const bind =
      stored['bindAddress'] === '*'
        ? ''
        : String(stored['bindAddress']).includes(':')
          ? `[${stored['bindAddress']}]:`
          : `${stored['bindAddress']}:`;
    const https = stored['tls'] === 'off' ? [] : [`${bind}${stored['httpsPort']}:8443`];
    expect(services['nginx']?.ports).toEqual([`${bind}${stored['httpPort']}:8080`, ...https]);
  });

  it('grants each service only the secrets it uses, through *_FILE variables', () => {
    const { services, secrets } = compose();
    const redis = readStored(directory)['redis'] === true;
    const tls = readStored(directory)['tls'] !== 'off';
    expect(services['nginx']?.secrets).toEqual(tls ? ['tls_cert', 'tls_key'] : undefined);
    // The owner's password initialises the data directory; the backend's, the role app-role.sql makes.
    expect(services['postgres']?.secrets).toEqual(['db_owner_password', 'db_password']);
    expect(services['postgres']?.environment).toMatchObject({
      POSTGRES_USER: 'db_owner',
      POSTGRES_PASSWORD_FILE: '/run/secrets/db_owner_password',
      APP_DB_USER: readStored(directory)['dbUser'],
    });
    expect(services['backend']?.secrets).toEqual(
      redis ? ['django_secret_key', 'db_password', 'redis_password'] : ['django_secret_key', 'db_password'],
    );
    // Redis holds only the ACL's hashes and the password of its PING-only healthcheck user.
    expect(services['redis']?.secrets).toEqual(redis ? ['redis_acl', 'redis_healthcheck_password'] : undefined);
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (!variable.endsWith('_FILE')) continue;
        const secret = value.replace('/run/secrets/', '');
        expect(service.secrets, `${name} ${variable}`).toContain(secret);
      }
    }
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.file.startsWith('./secrets/'), name).toBe(true);
      expect(statSync(join(directory, secret.file)).isFile(), name).toBe(true);
    }
    expect(Object.keys(secrets).sort()).toEqual([
      ...(redis
        ? [
            'db_owner_password',
            'db_password',
            'django_secret_key',
            'redis_acl',
            'redis_healthcheck_password',
            'redis_password',
          ]
        : ['db_owner_password', 'db_password', 'django_secret_key']),
      ...(tls ? ['tls_cert', 'tls_key'] : []),
    ]);
  });

  it('gates start-up on healthchecks and limits memory as answered', () => {
    const { services } = compose();
    const stored = readStored(directory) as { memory: Record<string, string>; redis: boolean };
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test?.[0], name).toMatch(/^CMD(-SHELL)?$/);
      expect(service.restart, name).toBe(readStored(directory)['restart']);
      expect(service.deploy?.resources?.limits?.memory, name).toBe(stored.memory[name]);
      const cpus = (readStored(directory) as { cpus: Record<string, number | null> }).cpus[name];
      expect((service.deploy?.resources?.limits as { cpus?: string } | undefined)?.cpus, name).toBe(
        cpus === null || cpus === undefined ? undefined : String(cpus),
      );
      for (const dependency of Object.values(service.depends_on ?? {}))
        expect(dependency.condition).toBe('service_healthy');
    }
    expect(Object.keys(services['nginx']?.depends_on ?? {})).toEqual(['backend']);
    expect(Object.keys(services['backend']?.depends_on ?? {})).toEqual(
      stored.redis ? ['postgres', 'redis'] : ['postgres'],
    );
  });

  it('pins every image to a tag and a digest (the built backend to its tag) and keeps data in named volumes', () => {
    const { services, volumes } = compose();
    for (const [name, service] of Object.entries(services)) {
      const digest = name === 'backend' ? '' : '@sha256:[0-9a-f]{64}';
      expect(service.image, name).toMatch(new RegExp(`^[a-z0-9._/-]+:[A-Za-z0-9._-]+${digest}$`));
      expect(service.image, name).not.toMatch(/:latest(?:@|$)/);
    }
    // Data in its named volume; the roles script read-only where the image runs it at first start.
    expect(services['postgres']?.volumes).toEqual([
      'postgres_data:/var/lib/postgresql/data',
      './postgres/app-role.sql:/docker-entrypoint-initdb.d/10-app-role.sql:ro',
    ]);
    expect(volumes).toHaveProperty('postgres_data');
    if (services['redis']) expect(services['redis'].volumes).toEqual(['redis_data:/data']);
  });

  it('writes strong secrets into a 0700 directory, and nowhere else', () => {
    const tree = readTree(directory);
    const secretFiles = [...tree.keys()].filter((path) => path.startsWith('secrets/') && path !== 'secrets/README.md');
    expect(statSync(join(directory, 'secrets')).mode & 0o777).toBe(0o700);
    const values: string[] = [];
    for (const path of secretFiles) {
      // The TLS key for nginx's master (root) alone; every other secret for its service's user.
      expect(statSync(join(directory, path)).mode & 0o777, path).toBe(path === 'secrets/tls_key.pem' ? 0o400 : 0o444);
      const value = tree.get(path)!;
      if (path.endsWith('.acl')) {
        // default off; backend and healthcheck each with the SHA-256 of its own password file.
        const sha256 = (file: string) =>
          createHash('sha256')
            .update(tree.get(`secrets/${file}`)!.trim())
            .digest('hex');
        expect(value).toBe(
          [
            'user default off resetpass resetkeys resetchannels -@all',
            `user backend on #${sha256('redis_password.txt')} ~* resetchannels -@all +@connection +@read +@write +@keyspace +@transaction -@dangerous -@admin -@scripting +flushdb`,
            `user healthcheck on #${sha256('redis_healthcheck_password.txt')} resetkeys resetchannels -@all +ping`,
            '',
          ].join('\n'),
        );
        continue;
      }
      if (path.endsWith('tls_cert.pem')) {
        expect(value).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
        continue;
      }
      values.push(value);
      if (path.includes('django_secret_key')) expect(value.length).toBeGreaterThanOrEqual(50);
      else if (path.endsWith('tls_key.pem')) expect(value).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      else expect(value).toMatch(/^[A-Za-z0-9]{32,}$/);
    }
    for (const [path, content] of tree) {
      if (path.startsWith('secrets/')) continue;
      for (const value of values) expect(content.includes(value), `${path} holds a secret value`).toBe(false);
    }
  });

  it('git-ignores the secret files but keeps the secrets directory', () => {
    execFileSync('git', ['init', '--quiet'], { cwd: directory });
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '--quiet', path], { cwd: directory });
        return true;
      } catch {
        return false;
      }
    };
    for (const secret of Object.values(compose().secrets)) expect(ignored(secret.file), secret.file).toBe(true);
    expect(ignored('secrets/README.md')).toBe(false);
    expect(ignored('.env')).toBe(true);
    expect(ignored('compose.yaml')).toBe(false);
  });

  it('records the answers in .yo-rc.json', () => {
    const stored = readStored(directory);
    expect(Object.keys(stored).sort()).toEqual([
      'backendReplicas',
      'bindAddress',
      'cpus',
      'dbName',
      'dbUser',
      'hstsPreload',
      'httpPort',
      'httpsPort',
      'maxBodySize',
      'memory',
      'projectName',
      'publicHealth',
      'rateLimit',
      'redis',
      'restart',
      'routes',
      'serverName',
      'swarm',
      'tls',
      'tlsCert',
      'tlsKey',
    ]);
    expect(compose().name).toBe(stored['projectName']);
    expect(readFileSync(join(directory, '.yo-rc.json'), 'utf8')).not.toMatch(/password|secret_key/i);
  });
});
