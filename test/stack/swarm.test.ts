/**
 * The Docker Swarm target (--swarm): stack.yaml against the Compose schema, against what
 * `docker stack deploy` on Docker Engine 20.10 accepts and applies, and property by property
 * against the compose.yaml generated beside it; nginx.swarm.conf through nginx -t with no
 * service name resolvable; and, with swarm off, output exactly as without the new answers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMemorySize } from '../../generators/lib/answers/memory-size.js';
import { buildStackModel } from '../../generators/lib/stack/stack-model.js';
import { BACKEND_DRAIN_SECONDS, SWARM_RESTART_CONDITIONS, tmpfsMounts } from '../../generators/lib/stack/swarm.js';
import { completeWithDefaults } from '../../generators/lib/answers/resolve.js';
import { composeSchemaErrors } from '../support/compose-schema.js';
import {
  EXAMPLE_ANSWERS_JSON,
  failure,
  freshDirectory,
  generate,
  withProvidedCertificate,
} from '../support/generate.js';
import { nginxAvailable, nginxTestSwarm } from '../support/nginx.js';
import { prerequisite } from '../support/prerequisites.js';
import {
  readCompose,
  readStackFile,
  readStored,
  type ComposeFile,
  type ComposeService,
} from '../support/stack-files.js';
import { readTree } from '../support/tree.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');
const read = (directory: string, path: string) => readFileSync(join(directory, path), 'utf8');

const SWARM = { answers: EXAMPLE_ANSWERS_JSON, swarm: true };
const SCENARIOS: Record<string, { options: Record<string, unknown>; directory?: () => string }> = {
  'example answers': { options: SWARM },
  'example answers, 3 backend replicas': { options: { ...SWARM, 'backend-replicas': '3' } },
  'no Redis, restart on-failure': { options: { ...SWARM, redis: false, restart: 'on-failure' } },
  '60 routes, CPU limits': {
    options: {
      ...SWARM,
      routes: Array.from({ length: 60 }, (_, i) => `/v${i}/items`).join(','),
      'cpus-backend': '1.5',
      'cpus-nginx': '0.25',
    },
  },
  'tls self-signed, restart "no"': { options: { ...SWARM, tls: 'self-signed', restart: 'no' } },
  'tls provided, on 443': {
    options: {
      ...SWARM,
      tls: 'provided',
      'tls-cert': 'certs/shop.crt',
      'tls-key': 'certs/shop.key',
      'https-port': '443',
    },
    directory: withProvidedCertificate,
  },
  'smallest budgets': {
    options: {
      ...SWARM,
      'memory-nginx': '16m',
      'memory-backend': '128m',
      'memory-postgres': '128m',
      'memory-redis': '16m',
    },
  },
};

/** Service keys that `docker stack deploy` on 20.10 both accepts and applies: anything else is refused or silently dropped. */
const APPLIED_SERVICE_KEYS = [
  'image',
  'command',
  'user',
  'cap_drop',
  'cap_add',
  'read_only',
  'logging',
  'ports',
  'networks',
  'secrets',
  'configs',
  'environment',
  'volumes',
  'healthcheck',
  'deploy',
  'stop_grace_period',
];
/** Keys stack deploy ignores (build, restart, depends_on, security_opt, container_name) or refuses (pids_limit, shm_size), and the short tmpfs list it does not apply. */
const NOT_APPLIED_SERVICE_KEYS = [
  'build',
  'restart',
  'depends_on',
  'security_opt',
  'container_name',
  'pids_limit',
  'shm_size',
  'tmpfs',
];

type StackService = ComposeService & {
  user?: string;
  cap_drop?: string[];
  cap_add?: string[];
  read_only?: boolean;
  logging?: unknown;
  tmpfs?: string[];
  shm_size?: string;
  ports?: unknown[];
  stop_grace_period?: string;
  deploy?: {
    mode?: string;
    replicas?: number;
    endpoint_mode?: string;
    placement?: { constraints?: string[]; preferences?: { spread: string }[] };
    resources?: {
      limits?: { memory?: string; cpus?: string; pids?: number };
      reservations?: { memory?: string; cpus?: string };
    };
    restart_policy?: { condition?: string; delay?: string };
    update_config?: { parallelism?: number; delay?: string; order?: string; failure_action?: string; monitor?: string };
    rollback_config?: { parallelism?: number; order?: string };
  };
};
type TmpfsVolume = { type: 'tmpfs'; target: string; tmpfs?: { size?: number } };

const bytes = (size: string) => parseMemorySize(size)!.bytes;
const tmpfsOf = (service: StackService) =>
  (service.volumes ?? []).filter((v): v is TmpfsVolume => typeof v !== 'string' && v.type === 'tmpfs');

describe.each(Object.entries(SCENARIOS))('stack.yaml for %s', (_name, scenario) => {
  let directory: string;
  let compose: ComposeFile & { services: Record<string, StackService> };
  let stack: ComposeFile & { services: Record<string, StackService> };
  let stored: Record<string, unknown>;
  const serviceNames = () => Object.keys(compose.services);
  const both = (name: string) => ({ inCompose: compose.services[name]!, inStack: stack.services[name]! });

  it('is generated beside compose.yaml, with nginx.swarm.conf', async () => {
    directory = await generate({ options: scenario.options, directory: scenario.directory?.() });
    compose = readCompose(directory) as typeof compose;
    stack = readStackFile(directory) as typeof stack;
    stored = readStored(directory);
    expect(stored['swarm']).toBe(true);
    expect(existsSync(join(directory, 'nginx/nginx.swarm.conf'))).toBe(true);
    expect(read(directory, 'stack.yaml').split('\n')[0]).toMatch(/^# Managed by generator-secure-stack/);
    expect(read(directory, 'nginx/nginx.swarm.conf').split('\n')[0]).toMatch(/^# Managed by generator-secure-stack/);
  });

  it('validates against the Compose schema as a 3.9 stack file, without a top-level name', () => {
    expect(composeSchemaErrors(stack)).toEqual([]);
    expect(stack.version).toBe('3.9');
    expect(stack).not.toHaveProperty('name');
    expect(Object.keys(stack).sort()).toEqual(['configs', 'networks', 'secrets', 'services', 'version', 'volumes']);
  });

  it('has the same services as compose.yaml, using only keys stack deploy applies', () => {
    expect(Object.keys(stack.services)).toEqual(serviceNames());
    for (const [name, service] of Object.entries(stack.services)) {
      for (const key of NOT_APPLIED_SERVICE_KEYS) expect(service, `${name}.${key}`).not.toHaveProperty(key);
      for (const key of Object.keys(service)) expect(APPLIED_SERVICE_KEYS, `${name}.${key}`).toContain(key);
      expect(service.deploy?.resources?.limits, name).not.toHaveProperty('pids');
    }
  });

  it('resolves every service by DNS round robin, one replica each but the answered backend replicas', () => {
    for (const [name, service] of Object.entries(stack.services)) {
      expect(service.deploy?.endpoint_mode, name).toBe('dnsrr');
      expect(service.deploy?.mode, name).toBe('replicated');
      expect(service.deploy?.replicas, name).toBe(name === 'backend' ? stored['backendReplicas'] : 1);
    }
  });

  it('publishes only from nginx, in host mode, the ports compose.yaml publishes', () => {
    const publishing = Object.entries(stack.services)
      .filter(([, s]) => s.ports !== undefined)
      .map(([name]) => name);
    expect(publishing).toEqual(['nginx']);
    const composePorts = (compose.services['nginx']!.ports as string[]).map((port) => port.split(':').map(Number));
    expect(stack.services['nginx']!.ports).toEqual(
      composePorts.map(([published, target]) => ({ target, published, protocol: 'tcp', mode: 'host' })),
    );
  });

  it('keeps the networks: the backend network an internal overlay, each service on the same ones', () => {
    expect(stack.networks).toEqual({
      'frontend-network': { driver: 'overlay' },
      'backend-network': { driver: 'overlay', internal: true },
    });
    for (const name of serviceNames()) expect(both(name).inStack.networks, name).toEqual(both(name).inCompose.networks);
  });

  it('grants each service exactly the secrets compose.yaml grants it, from the same files', () => {
    expect(stack.secrets).toEqual(compose.secrets);
    // The TLS key in the long syntax, root's alone (0400); every other secret as in compose.yaml.
    const names = (secrets: unknown[] | undefined) =>
      secrets?.map((secret) => (typeof secret === 'string' ? secret : (secret as { source: string }).source));
    for (const name of serviceNames())
      expect(names(both(name).inStack.secrets as unknown[] | undefined), name).toEqual(both(name).inCompose.secrets);
    const key = (stack.services['nginx']!.secrets as unknown[] | undefined)?.find(
      (secret) => typeof secret !== 'string',
    );
    if (compose.services['nginx']!.secrets?.includes('tls_key'))
      expect(key).toEqual({ source: 'tls_key', target: 'tls_key', mode: 0o400 });
    else expect(key).toBeUndefined();
  });

  it('limits memory as compose.yaml does, reserving the same, and CPUs as answered', () => {
    for (const name of serviceNames()) {
      const { inCompose, inStack } = both(name);
      const limits = (inCompose.deploy?.resources?.limits ?? {}) as { memory?: string; cpus?: string };
      expect(inStack.deploy?.resources?.limits, name).toEqual(limits);
      expect(inStack.deploy?.resources?.reservations, name).toEqual({ memory: limits.memory });
    }
  });

  it('places the data stores on the labelled node, nginx on a manager, backend replicas spread', () => {
    expect(stack.services['nginx']!.deploy?.placement).toEqual({ constraints: ['node.role == manager'] });
    expect(stack.services['backend']!.deploy?.placement).toEqual({ preferences: [{ spread: 'node.id' }] });
    for (const name of ['postgres', 'redis'].filter((n) => n in stack.services)) {
      expect(stack.services[name]!.deploy?.placement, name).toEqual({
        constraints: ['node.labels.secure-stack.data == true'],
      });
    }
  });

  it('keeps hardening, users, healthchecks, logging, environment and images as compose.yaml has them', () => {
    for (const name of serviceNames()) {
      const { inCompose, inStack } = both(name);
      expect(inStack.read_only, name).toBe(true);
      expect(inStack.cap_drop, name).toEqual(['ALL']);
      expect(inStack.cap_drop, name).toEqual(inCompose.cap_drop);
      // Compose's nginx reads the host's 0400 TLS key with DAC_OVERRIDE; Swarm mounts root's own copy.
      expect(inStack.cap_add, name).toEqual(inCompose.cap_add?.filter((capability) => capability !== 'DAC_OVERRIDE'));
      if (name === 'nginx')
        expect(inCompose.cap_add?.includes('DAC_OVERRIDE'), 'DAC_OVERRIDE exactly with TLS').toBe(
          inCompose.secrets?.includes('tls_key') ?? false,
        );
      expect(inStack.user, name).toEqual(inCompose.user);
      expect(inStack.healthcheck, name).toEqual(inCompose.healthcheck);
      expect(inStack.logging, name).toEqual(inCompose.logging);
      // The backend adds only its drain: on Swarm a stopping replica keeps serving a while (serve.sh).
      expect(inStack.environment, name).toEqual(
        name === 'backend'
          ? { ...(inCompose.environment as object), DRAIN_SECONDS: String(BACKEND_DRAIN_SECONDS) }
          : inCompose.environment,
      );
      expect(inStack.command, name).toEqual(inCompose.command);
      expect(inStack.image, name).toBe(name === 'backend' ? `\${BACKEND_IMAGE:-${inCompose.image}}` : inCompose.image);
    }
  });

  it('mounts every tmpfs path of compose.yaml with the same size, all of them within the memory limit', () => {
    for (const name of serviceNames()) {
      const { inCompose, inStack } = both(name);
      const mounts = tmpfsOf(inStack);
      const composeMounts = (inCompose.tmpfs ?? []).map((entry) => /^([^:]+):size=(\w+)$/.exec(entry)!);
      const wanted = [...composeMounts.map(([, target]) => target), ...(inCompose.shm_size ? ['/dev/shm'] : [])];
      expect(
        mounts.map((m) => m.target),
        name,
      ).toEqual(wanted);
      for (const [, target, size] of composeMounts)
        expect(mounts.find((m) => m.target === target)?.tmpfs?.size, `${name} ${target}`).toBe(bytes(size!));
      for (const mount of mounts)
        expect(Number.isInteger(mount.tmpfs?.size) && mount.tmpfs!.size! > 0, `${name} ${mount.target}`).toBe(true);
      const total = mounts.reduce((sum, m) => sum + m.tmpfs!.size!, 0);
      expect(total, name).toBeLessThanOrEqual(bytes(inStack.deploy!.resources!.limits!.memory!));
      if (inCompose.shm_size)
        expect(mounts.find((m) => m.target === '/dev/shm')?.tmpfs?.size, name).toBe(bytes(inCompose.shm_size));
    }
  });

  it('keeps the named volumes, and mounts nginx.swarm.conf from the repository over nginx.conf', () => {
    expect(stack.volumes).toEqual(compose.volumes);
    for (const name of serviceNames()) {
      const { inCompose, inStack } = both(name);
      const named = (inStack.volumes ?? []).filter((v): v is string => typeof v === 'string');
      if (name === 'nginx') expect(named).toEqual(['./nginx/nginx.swarm.conf:/etc/nginx/nginx.conf:ro']);
      // PostgreSQL's roles script is a config: the data node may not hold the repository.
      else if (name === 'postgres') {
        expect(named).toEqual(
          (inCompose.volumes ?? []).filter(
            (volume) => typeof volume === 'string' && !volume.startsWith('./postgres/app-role.sql:'),
          ),
        );
        expect((inStack as { configs?: unknown }).configs).toEqual([
          { source: 'postgres_roles', target: '/docker-entrypoint-initdb.d/10-app-role.sql', mode: 0o444 },
        ]);
      } else expect(named, name).toEqual(inCompose.volumes ?? []);
    }
    expect((stack as { configs?: unknown }).configs).toEqual({ postgres_roles: { file: './postgres/app-role.sql' } });
  });

  it('restarts as answered, updates one task at a time and rolls back on failure, start-first only for the backend', () => {
    for (const name of serviceNames()) {
      const deploy = stack.services[name]!.deploy!;
      expect(deploy.restart_policy, name).toEqual({
        condition: SWARM_RESTART_CONDITIONS[stored['restart'] as keyof typeof SWARM_RESTART_CONDITIONS],
        delay: '5s',
      });
      const order = name === 'backend' ? 'start-first' : 'stop-first';
      expect(deploy.update_config, name).toEqual({
        parallelism: 1,
        delay: '5s',
        order,
        failure_action: 'rollback',
        monitor: '20s',
      });
      expect(deploy.rollback_config, name).toEqual({ parallelism: 1, order });
    }
  });

  it("gives a stopping backend replica its drain and gunicorn's graceful stop before SIGKILL; no other service waits longer than the default", () => {
    for (const name of serviceNames()) {
      const grace = stack.services[name]!.stop_grace_period;
      // DRAIN_SECONDS, then gunicorn's 30 s graceful timeout, then a margin.
      expect(grace, name).toBe(name === 'backend' ? `${BACKEND_DRAIN_SECONDS + 35}s` : undefined);
      if (name !== 'backend') expect(stack.services[name]!.environment ?? {}, name).not.toHaveProperty('DRAIN_SECONDS');
    }
    expect(compose.services['backend']!.environment ?? {}).not.toHaveProperty('DRAIN_SECONDS');
  });

  it('interpolates nothing but the backend image variable', () => {
    expect(read(directory, 'stack.yaml').replace('${BACKEND_IMAGE:-', '')).not.toContain('$');
  });

  it('renders nginx.swarm.conf as nginx.conf but for resolving the backend per request', () => {
    const compose = read(directory, 'nginx/nginx.conf');
    const swarm = read(directory, 'nginx/nginx.swarm.conf');
    expect(swarm).toContain('    resolver 127.0.0.11 valid=5s ipv6=off;\n');
    // In the public server and in the loopback listener (the backend's /health/).
    expect(swarm.match(/^ {8}set \$backend_upstream http:\/\/backend:8000;$/gm)).toHaveLength(2);
    expect(swarm).not.toMatch(/upstream backend|http:\/\/backend;/);
    // Everything else is the same text: take the differences out of both and compare.
    const withoutStaticUpstream = compose.replace(/\n {4}upstream backend \{\n[^}]*\}\n/, '\n');
    const withoutResolver = swarm
      .replace(/\n(?: {4}#[^\n]*\n)* {4}resolver [^\n]*\n/, '\n')
      .replace(/(?: {8}#[^\n]*\n)* {8}set \$backend_upstream [^\n]*\n/g, '')
      .replaceAll('proxy_pass $backend_upstream;', 'proxy_pass http://backend;');
    expect(withoutResolver).toBe(withoutStaticUpstream);
  });

  it.runIf(haveNginx)(
    'passes nginx -t for nginx.swarm.conf with no service name resolvable, where nginx.conf cannot load',
    () => {
      expect(nginxTestSwarm(directory)).toEqual({ ok: true, output: '' });
      // The control: the same layout, Compose's static upstream, fails on the unresolvable name.
      const control = nginxTestSwarm(directory, read(directory, 'nginx/nginx.conf'));
      expect(control.ok).toBe(false);
      expect(control.output).toMatch(/host not found in upstream "backend:8000"/);
    },
  );

  it("says in the stack's README how to deploy it, what it costs, and what Swarm cannot enforce", () => {
    const readme = read(directory, 'README.md');
    const replicas = stored['backendReplicas'] as number;
    expect(readme).toContain('## Deploy to a swarm');
    expect(readme).toContain('docker node update --label-add secure-stack.data=true NODE');
    expect(readme).toContain(`docker stack deploy -c stack.yaml ${String(stored['projectName'])}\n`);
    const backendBudget = (stored['memory'] as Record<string, string>)['backend']!;
    expect(readme).toContain(`| \`backend\` | ${replicas} | ${backendBudget} |`);
    const notEnforced = readme.split('\n').filter((line) => line.includes('**not enforced**'));
    expect(notEnforced.map((line) => line.split(' | ')[0])).toEqual([
      '| `no-new-privileges`',
      '| Process (pids) limits',
      '| Traffic between services',
    ]);
  });
});

describe('the Swarm decisions, in the model', () => {
  const model = (options: Record<string, unknown>) =>
    buildStackModel(completeWithDefaults(options as never, 'stack').answers);

  it("sizes /tmp at a quarter of the budget, at most 64m, and PostgreSQL's socket directory at 1m", () => {
    const services = (memory: Record<string, string>) =>
      Object.fromEntries(
        model({
          'memory.nginx': parseMemorySize(memory['nginx']!)!,
          'memory.postgres': parseMemorySize(memory['postgres']!)!,
        }).services.map((s) => [s.name, tmpfsMounts(s)]),
      );
    const small = services({ nginx: '16m', postgres: '128m' });
    expect(small['nginx']).toEqual([{ target: '/tmp', sizeBytes: 4 * 1024 ** 2, size: '4m' }]);
    expect(small['postgres']).toEqual([
      { target: '/tmp', sizeBytes: 32 * 1024 ** 2, size: '32m' },
      { target: '/var/run/postgresql', sizeBytes: 1024 ** 2, size: '1m' },
      { target: '/dev/shm', sizeBytes: 64 * 1024 ** 2, size: '64m' },
    ]);
    expect(services({ nginx: '1g', postgres: '4g' })['nginx']).toEqual([
      { target: '/tmp', sizeBytes: 64 * 1024 ** 2, size: '64m' },
    ]);
  });

  it('maps every restart answer to a Swarm restart condition', () => {
    expect(SWARM_RESTART_CONDITIONS).toEqual({
      no: 'none',
      always: 'any',
      'unless-stopped': 'any',
      'on-failure': 'on-failure',
    });
  });

  it('adds up what N backend replicas cost: N x the backend budget, the others once, one more backend during an update', () => {
    const swarm = model({ swarm: true, backendReplicas: 5, 'memory.backend': parseMemorySize('256m')! }).swarm!;
    expect(swarm.memory.rows.find((row) => row.service === 'backend')).toEqual({
      service: 'backend',
      replicas: 5,
      perReplica: '256m',
      total: '1280m',
    });
    // nginx 50m + 5 x 256m + postgres 1g + redis 200m (the defaults) = 2554m; one more backend: 2810m.
    expect(swarm.memory).toMatchObject({ total: '2554m', duringUpdate: '2810m' });
  });

  it('has no Swarm model without the swarm answer', () => {
    expect(model({ backendReplicas: 4 }).swarm).toBeNull();
  });
});

describe('with swarm off', () => {
  const withoutSecrets = (tree: Map<string, string>) =>
    [...tree].filter(([path]) => !path.startsWith('secrets/') || path.endsWith('README.md'));

  it('writes exactly what it wrote before the swarm answers existed, whatever backendReplicas says', async () => {
    const parent = freshDirectory('answers');
    const example = JSON.parse(readFileSync(EXAMPLE_ANSWERS_JSON, 'utf8')) as Record<string, unknown>;
    expect(example).toMatchObject({ swarm: false, backendReplicas: 1 });
    const { swarm: _swarm, backendReplicas: _replicas, ...before } = example;
    writeFileSync(join(parent, 'old.json'), JSON.stringify(before));
    const fromOld = readTree(await generate({ options: { answers: join(parent, 'old.json') } }));
    const fromExample = readTree(
      await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, 'backend-replicas': '5' } }),
    );
    expect([...fromExample.keys()].filter((path) => /stack\.yaml|swarm/.test(path))).toEqual([]);
    const comparable = (tree: Map<string, string>) =>
      withoutSecrets(tree).filter(([path]) => path !== '.yo-rc.json' && !path.startsWith('.secure-stack/'));
    expect(comparable(fromExample)).toEqual(comparable(fromOld));
    expect(fromExample.get('README.md')).not.toMatch(/swarm/i);
  });

  it('refuses swarm with a bind address, which a Swarm port cannot have, and writes nothing', async () => {
    const directory = freshDirectory();
    const error = await failure(generate({ directory, options: { swarm: true, 'bind-address': '127.0.0.1' } }));
    expect(error.code).toBe(1);
    expect(error.message).toContain('bindAddress: "127.0.0.1" must be "*" with swarm');
    expect(readTree(directory).size).toBe(0);
  });
});
