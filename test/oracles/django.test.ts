/**
 * The generated Django backend on Debian's Django 3.2: `manage.py check --deploy` passes, routes
 * answer with path-prefix semantics, and settings refuse to start without their secrets.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_ANSWERS_JSON, generate, withProvidedCertificate } from '../support/generate.js';
import { DEBIAN_PYTHON, prerequisite } from '../support/prerequisites.js';

const haveDjango = prerequisite(
  "Debian's Django with psycopg2 and redis",
  () => spawnSync(DEBIAN_PYTHON, ['-c', 'import django, psycopg2, redis']).status === 0,
  'scripts/test-prerequisites.sh',
);

function secretEnvironment(directory: string, redis: boolean): NodeJS.ProcessEnv {
  const secrets = join(directory, 'secrets');
  return {
    PATH: process.env['PATH'],
    DJANGO_SECRET_KEY_FILE: join(secrets, 'django_secret_key.txt'),
    DB_PASSWORD_FILE: join(secrets, 'db_password.txt'),
    ...(redis ? { REDIS_PASSWORD_FILE: join(secrets, 'redis_password.txt') } : {}),
  };
}

function python(directory: string, args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(DEBIAN_PYTHON, args, { cwd: join(directory, 'backend'), env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

// Asks the URL configuration what each path resolves to, through Django's test client.
const ROUTE_PROBE = `
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
# As nginx forwards it: over HTTPS when the stack has TLS (ignored by settings without it).
client = Client(HTTP_HOST=sys.argv[1], HTTP_X_FORWARDED_PROTO="https")
result = {}
for path in sys.argv[2:]:
    response = client.get(path)
    result[path] = [response.status_code, json.loads(response.content) if response.status_code == 200 else None]
print(json.dumps(result))
`;

const SCENARIOS: Record<
  string,
  { options: Record<string, unknown>; redis: boolean; host: string; directory?: () => string }
> = {
  'example answers': { options: { answers: EXAMPLE_ANSWERS_JSON }, redis: true, host: 'shop.localhost' },
  'redis off, nested and dotted routes': {
    options: { redis: false, routes: '/api,/api/v2,/files.v1' },
    redis: false,
    host: 'localhost',
  },
  'tls self-signed': {
    options: { answers: EXAMPLE_ANSWERS_JSON, tls: 'self-signed' },
    redis: true,
    host: 'shop.localhost',
  },
  'tls provided, HSTS preload': {
    options: {
      answers: EXAMPLE_ANSWERS_JSON,
      tls: 'provided',
      'tls-cert': 'certs/shop.crt',
      'tls-key': 'certs/shop.key',
      'hsts-preload': true,
    },
    redis: true,
    host: 'shop.localhost',
    directory: withProvidedCertificate,
  },
};

describe.runIf(haveDjango).each(Object.entries(SCENARIOS))('Django backend for %s', (_name, scenario) => {
  let directory: string;

  it('passes manage.py check --deploy with warnings as failures', async () => {
    directory = await generate({ options: scenario.options, directory: scenario.directory?.() });
    const result = python(
      directory,
      ['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'],
      secretEnvironment(directory, scenario.redis),
    );
    expect(result.output).toMatch(/System check identified no issues/);
    expect(result.status).toBe(0);
    // Without TLS exactly the three HTTPS-only checks are silenced; with TLS the two that ask for
    // HSTS preloading, unless hstsPreload is answered; then nothing.
    const silenced = scenario.options['tls'] === undefined ? 3 : scenario.options['hsts-preload'] ? 0 : 2;
    expect(result.output).toMatch(new RegExp(`no issues \\(${silenced} silenced\\)`));
  });

  // Defined only for the TLS scenario, so no test is reported as skipped.
  if (scenario.options['tls'] !== undefined)
    it('redirects plain HTTP to HTTPS but for the healthcheck, and sends HSTS', () => {
      const probe = `
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
plain = Client(HTTP_HOST=sys.argv[1])
print(plain.get("/api").status_code, plain.get("/api")["Location"])
secure = Client(HTTP_HOST=sys.argv[1], HTTP_X_FORWARDED_PROTO="https")
print(secure.get("/api")["Strict-Transport-Security"])
`;
      const result = python(directory, ['-c', probe, scenario.host], secretEnvironment(directory, scenario.redis));
      const preload = scenario.options['hsts-preload'] === true;
      expect(result.stdout).toBe(
        `301 https://${scenario.host}/api\n${preload ? 'max-age=63072000; includeSubDomains; preload' : 'max-age=63072000'}\n`,
      );
      const settings = readFileSync(join(directory, 'backend/config/settings.py'), 'utf8');
      expect(settings).toContain('SECURE_REDIRECT_EXEMPT = [r"^health/$"]');
      if (preload) expect(settings).not.toContain('SILENCED_SYSTEM_CHECKS');
      else expect(settings).toContain('SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]');
      // nginx sends the same header (Django's is hidden behind it).
      expect(readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8')).toContain(
        `add_header Strict-Transport-Security "${preload ? 'max-age=63072000; includeSubDomains; preload' : 'max-age=63072000'}" always;`,
      );
    });

  it('compiles every Python file', () => {
    const result = python(directory, ['-m', 'compileall', '-q', '.'], {
      PATH: process.env['PATH'],
      PYTHONDONTWRITEBYTECODE: '1',
    });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('answers each route and its sub-paths, never a look-alike prefix or another host', () => {
    const paths = scenario.redis
      ? ['/api', '/api/orders/7', '/admin/x', '/apiary', '/other']
      : ['/api', '/api/v2/x', '/files.v1/a', '/files-v1', '/apiary'];
    const result = python(
      directory,
      ['-c', ROUTE_PROBE, scenario.host, ...paths],
      secretEnvironment(directory, scenario.redis),
    );
    expect(result.status, result.output).toBe(0);
    const answers = JSON.parse(result.stdout) as Record<string, [number, { route: string } | null]>;
    if (scenario.redis) {
      expect(answers['/api']).toEqual([200, { route: '/api', path: '/api' }]);
      expect(answers['/api/orders/7']?.[1]?.route).toBe('/api');
      expect(answers['/admin/x']?.[1]?.route).toBe('/admin');
      expect(answers['/apiary']?.[0]).toBe(404);
      expect(answers['/other']?.[0]).toBe(404);
    } else {
      expect(answers['/api/v2/x']?.[1]?.route).toBe('/api/v2');
      expect(answers['/files.v1/a']?.[1]?.route).toBe('/files.v1');
      expect(answers['/files-v1']?.[0]).toBe(404);
      expect(answers['/apiary']?.[0]).toBe(404);
    }
    const wrongHost = python(
      directory,
      ['-c', ROUTE_PROBE, 'evil.example', '/api'],
      secretEnvironment(directory, scenario.redis),
    );
    expect(JSON.parse(wrongHost.stdout)['/api'][0]).toBe(400);
  });

  it('refuses to start without its secrets, naming the missing one', () => {
    // What gunicorn loads (config.wsgi:application sets Django up). Not `manage.py check`: Django's
    // command runner defers a settings error, and whether a check then reads a setting first (and
    // shows it) or the model registry does (AppRegistryNotReady) changed in a Debian 3.2 update.
    const start = ['-c', 'from config.wsgi import application'];
    const env = secretEnvironment(directory, scenario.redis);
    delete env['DB_PASSWORD_FILE'];
    const missing = python(directory, start, env);
    expect(missing.status).not.toBe(0);
    expect(missing.output).toMatch(/Secret 'db_password' is missing: set DB_PASSWORD_FILE/);
    const unreadable = python(directory, start, { ...env, DB_PASSWORD_FILE: '/nonexistent/db_password' });
    expect(unreadable.status).not.toBe(0);
    expect(unreadable.output).toMatch(/DB_PASSWORD_FILE=\/nonexistent\/db_password cannot be read/);
    const fromEnvironment = python(directory, start, { ...env, DB_PASSWORD: 'from-the-environment' });
    expect(fromEnvironment.status, fromEnvironment.output).toBe(0);
  });
});
