/**
 * The podman runner's reading of compose.yaml, without an engine: every key the generator writes
 * becomes a podman flag, and an unknown key fails loudly, naming itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { durationMs, planStack } from '../e2e/runner/compose.js';
import { localReference, runArguments } from '../e2e/runner/runner.js';
import { IMAGES, PINNED_IMAGES } from '../../generators/lib/stack/images.js';
import { EXAMPLE_ANSWERS, generateStack, removeTemporaryDirectories, stackDirectory } from '../e2e/support/stacks.js';

describe('e2e runner: compose.yaml to podman', () => {
  const directory = stackDirectory('plan');
  generateStack(directory, ['--answers', EXAMPLE_ANSWERS]);
  afterAll(() => removeTemporaryDirectories());

  it('reads every key of a generated compose.yaml', () => {
    const plan = planStack(directory);
    expect(plan.project).toBe('shop');
    expect(plan.services.map((service) => service.name)).toEqual(['nginx', 'backend', 'postgres', 'redis']);
    expect(plan.networks).toEqual([
      { name: 'frontend-network', internal: false, driver: 'bridge' },
      { name: 'backend-network', internal: true, driver: 'bridge' },
    ]);
    expect(plan.secrets['db_password']).toBe(join(directory, 'secrets/db_password.txt'));
    const backend = plan.services.find((service) => service.name === 'backend');
    expect(backend?.dependsOn).toEqual([
      { service: 'postgres', condition: 'service_healthy' },
      { service: 'redis', condition: 'service_healthy' },
    ]);
    expect(backend?.buildContext).toBe(join(directory, 'backend'));
  });

  it('turns each key into its podman flag', () => {
    const plan = planStack(directory);
    const postgres = plan.services.find((service) => service.name === 'postgres');
    if (!postgres) throw new Error('no postgres');
    const args = runArguments(plan, postgres).join(' ');
    for (const flag of [
      '--name shop-postgres-1',
      '--label com.docker.compose.project=shop',
      '--label com.docker.compose.service=postgres',
      '--user 999:999',
      '--restart unless-stopped',
      '--security-opt no-new-privileges',
      '--cap-drop ALL',
      '--read-only --read-only-tmpfs=false',
      '--tmpfs /var/run/postgresql:rw,noexec,nosuid,nodev,size=1m',
      '--pids-limit 152',
      '--shm-size 256m',
      '--log-driver k8s-file --log-opt max-size=10m --log-opt max-file=3',
      '--network shop_backend-network:alias=postgres',
      `--volume ${join(directory, 'secrets/db_password.txt')}:/run/secrets/db_password:ro`,
      '--env POSTGRES_PASSWORD_FILE=/run/secrets/db_owner_password',
      '--volume shop_postgres_data:/var/lib/postgresql/data',
      '--health-interval 10000ms --health-timeout 5000ms --health-retries 5 --health-start-period 30000ms',
      '--memory 1g',
    ])
      expect(args).toContain(flag);
    // podman 4.3 keeps ["CMD", ...] as one opaque string: the runner passes the exec form.
    expect(args).toContain('--health-cmd ["pg_isready","--host=127.0.0.1"');
    const nginx = plan.services.find((service) => service.name === 'nginx');
    if (!nginx) throw new Error('no nginx');
    expect(runArguments(plan, nginx).join(' ')).toContain(`--publish 8080:8080`);
    expect(runArguments(plan, nginx).join(' ')).toContain(
      `--volume ${join(directory, 'nginx/nginx.conf')}:/etc/nginx/nginx.conf:ro`,
    );
  });

  it('runs a digest-pinned image by its tag, the only name a podman stand-in has', () => {
    const plan = planStack(directory);
    const redis = plan.services.find((service) => service.name === 'redis')!;
    expect(redis.image).toBe(IMAGES.redis);
    expect(runArguments(plan, redis)).toContain(`${PINNED_IMAGES.redis.repository}:${PINNED_IMAGES.redis.tag}`);
    expect(runArguments(plan, redis).join(' ')).not.toContain('@sha256:');
    expect(localReference('shop-backend:local')).toBe('shop-backend:local');
    expect(localReference(`localhost:5000/nginx@sha256:${'a'.repeat(64)}`)).toBe(
      `localhost:5000/nginx@sha256:${'a'.repeat(64)}`,
    );
  });

  it('fails naming every key it does not support', () => {
    const path = join(directory, 'compose.yaml');
    const original = readFileSync(path, 'utf8');
    try {
      const compose = parse(original) as {
        services: Record<string, Record<string, unknown>>;
        configs?: unknown;
        secrets: Record<string, unknown>;
      };
      compose.configs = { x: { file: './x' } };
      const nginx = compose.services['nginx'] ?? {};
      nginx['ulimits'] = { nofile: 1024 };
      nginx['logging'] = { driver: 'syslog' };
      nginx['healthcheck'] = { ...(nginx['healthcheck'] as object), start_interval: '1s' };
      compose.secrets['external_one'] = { external: true };
      writeFileSync(path, stringify(compose));
      let message = '';
      try {
        planStack(directory);
      } catch (error) {
        message = (error as Error).message;
      }
      for (const key of [
        'configs',
        'services.nginx.ulimits',
        'services.nginx.logging.driver=syslog',
        'services.nginx.healthcheck.start_interval',
        'secrets.external_one.external',
      ])
        expect(message).toContain(key);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('reads Compose durations', () => {
    expect(durationMs('10s')).toBe(10_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('500ms')).toBe(500);
    expect(() => durationMs('10 s')).toThrow();
  });
});
