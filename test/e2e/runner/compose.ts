/**
 * compose.yaml -> a typed plan for podman. Only the keys listed here are understood; any other
 * key makes `planStack` throw, naming every unsupported key, so nothing the generator writes is
 * ever silently ignored by the e2e runner.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface HealthcheckPlan {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ServicePlan {
  name: string;
  image: string;
  buildContext?: string;
  command?: string[];
  user?: string;
  restart?: string;
  securityOpt: string[];
  capDrop: string[];
  capAdd: string[];
  readOnly: boolean;
  tmpfs: string[];
  pidsLimit?: number;
  shmSize?: string;
  logging?: { driver: string; options: Record<string, string> };
  ports: string[];
  networks: string[];
  secrets: string[];
  environment: Record<string, string>;
  /** Named volumes (name, target, ro) and binds (absolute source). */
  volumes: { kind: 'volume' | 'bind'; source: string; target: string; readOnly: boolean }[];
  dependsOn: { service: string; condition: 'service_healthy' | 'service_started' }[];
  healthcheck?: HealthcheckPlan;
  memory?: string;
  cpus?: string;
}

export interface StackPlan {
  directory: string;
  project: string;
  services: ServicePlan[];
  networks: { name: string; internal: boolean; driver: string }[];
  volumes: string[];
  /** Secret name -> absolute host file. */
  secrets: Record<string, string>;
}

type Json = Record<string, unknown>;

class Reader {
  readonly unsupported: string[] = [];

  keys(value: unknown, path: string, allowed: readonly string[]): Json {
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.unsupported.push(`${path} (expected a mapping)`);
      return {};
    }
    for (const key of Object.keys(value)) if (!allowed.includes(key)) this.unsupported.push(`${path}.${key}`);
    return value as Json;
  }

  strings(value: unknown, path: string): string[] {
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
    this.unsupported.push(`${path} (expected a list of strings)`);
    return [];
  }

  scalar(value: unknown, path: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    this.unsupported.push(`${path} (expected a scalar)`);
    return undefined;
  }
}

const SERVICE_KEYS = [
  'image',
  'build',
  'command',
  'user',
  'restart',
  'security_opt',
  'cap_drop',
  'cap_add',
  'read_only',
  'tmpfs',
  'pids_limit',
  'shm_size',
  'logging',
  'ports',
  'networks',
  'secrets',
  'environment',
  'volumes',
  'depends_on',
  'healthcheck',
  'deploy',
] as const;

/** Compose durations: "10s", "1m30s", "500ms". */
export function durationMs(text: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g;
  let matched = '';
  for (let match = re.exec(text); match; match = re.exec(text)) {
    matched += match[0];
    const value = Number(match[1]);
    total += value * { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, ns: 0.000001 }[match[2] as 'h'];
  }
  if (matched !== text) throw new Error(`unsupported duration ${JSON.stringify(text)}`);
  return total;
}

export function planStack(directory: string): StackPlan {
  const compose: unknown = parse(readFileSync(join(directory, 'compose.yaml'), 'utf8'));
  const r = new Reader();
  const top = r.keys(compose, '', ['name', 'services', 'networks', 'volumes', 'secrets']);
  const project = r.scalar(top['name'], 'name') ?? '';
  if (!project) r.unsupported.push('name (missing: the runner needs the project name)');
  const abs = (path: string) => (isAbsolute(path) ? path : join(directory, path));

  const services: ServicePlan[] = [];
  for (const [name, raw] of Object.entries(
    r.keys(top['services'], 'services', Object.keys((top['services'] as Json | undefined) ?? {})),
  )) {
    const at = `services.${name}`;
    const s = r.keys(raw, at, SERVICE_KEYS);
    const build =
      s['build'] === undefined
        ? undefined
        : typeof s['build'] === 'string'
          ? { context: s['build'] }
          : r.keys(s['build'], `${at}.build`, ['context']);
    const logging =
      s['logging'] === undefined ? undefined : r.keys(s['logging'], `${at}.logging`, ['driver', 'options']);
    const logOptions = logging ? r.keys(logging['options'], `${at}.logging.options`, ['max-size', 'max-file']) : {};
    if (logging && logging['driver'] !== undefined && logging['driver'] !== 'json-file')
      r.unsupported.push(`${at}.logging.driver=${String(logging['driver'])}`);
    const deploy = r.keys(s['deploy'], `${at}.deploy`, ['resources']);
    const resources = r.keys(deploy['resources'], `${at}.deploy.resources`, ['limits']);
    const limits = r.keys(resources['limits'], `${at}.deploy.resources.limits`, ['memory', 'cpus']);

    let environment: Record<string, string> = {};
    if (Array.isArray(s['environment'])) {
      for (const entry of r.strings(s['environment'], `${at}.environment`)) {
        const index = entry.indexOf('=');
        if (index < 0) r.unsupported.push(`${at}.environment ${entry} (pass-through from the host)`);
        else environment[entry.slice(0, index)] = entry.slice(index + 1);
      }
    } else {
      environment = Object.fromEntries(
        Object.entries(
          r.keys(s['environment'], `${at}.environment`, Object.keys((s['environment'] as Json | undefined) ?? {})),
        ).map(([key, value]) => [key, r.scalar(value, `${at}.environment.${key}`) ?? '']),
      );
    }

    const networks = Array.isArray(s['networks'])
      ? r.strings(s['networks'], `${at}.networks`)
      : Object.entries(
          r.keys(s['networks'], `${at}.networks`, Object.keys((s['networks'] as Json | undefined) ?? {})),
        ).map(([network, options]) => {
          r.keys(options, `${at}.networks.${network}`, []);
          return network;
        });

    const dependsOn: ServicePlan['dependsOn'] = [];
    if (Array.isArray(s['depends_on']))
      for (const service of r.strings(s['depends_on'], `${at}.depends_on`))
        dependsOn.push({ service, condition: 'service_started' });
    else {
      for (const [service, options] of Object.entries(
        r.keys(s['depends_on'], `${at}.depends_on`, Object.keys((s['depends_on'] as Json | undefined) ?? {})),
      )) {
        const condition = r.keys(options, `${at}.depends_on.${service}`, ['condition'])['condition'];
        if (condition !== 'service_healthy' && condition !== 'service_started')
          r.unsupported.push(`${at}.depends_on.${service}.condition=${String(condition)}`);
        else dependsOn.push({ service, condition });
      }
    }

    let healthcheck: HealthcheckPlan | undefined;
    if (s['healthcheck'] !== undefined) {
      const h = r.keys(s['healthcheck'], `${at}.healthcheck`, [
        'test',
        'interval',
        'timeout',
        'retries',
        'start_period',
      ]);
      const test = r.strings(h['test'], `${at}.healthcheck.test`);
      if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL')
        r.unsupported.push(`${at}.healthcheck.test (must start with CMD or CMD-SHELL)`);
      healthcheck = {
        test,
        intervalMs: durationMs(String(h['interval'] ?? '30s')),
        timeoutMs: durationMs(String(h['timeout'] ?? '30s')),
        retries: Number(h['retries'] ?? 3),
        startPeriodMs: durationMs(String(h['start_period'] ?? '0s')),
      };
    }

    const volumes: ServicePlan['volumes'] = [];
    for (const spec of r.strings(s['volumes'], `${at}.volumes`)) {
      const parts = spec.split(':');
      const [source, target, mode] = parts;
      if (!source || !target || parts.length > 3 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
        r.unsupported.push(`${at}.volumes ${spec}`);
        continue;
      }
      const bind = source.startsWith('.') || source.startsWith('/');
      volumes.push({
        kind: bind ? 'bind' : 'volume',
        source: bind ? abs(source) : source,
        target,
        readOnly: mode === 'ro',
      });
    }

    const command = s['command'] === undefined ? undefined : r.strings(s['command'], `${at}.command`);
    const image = r.scalar(s['image'], `${at}.image`);
    if (!image) r.unsupported.push(`${at}.image (missing)`);
    const readOnly = s['read_only'];
    if (readOnly !== undefined && typeof readOnly !== 'boolean')
      r.unsupported.push(`${at}.read_only (expected a boolean)`);
    services.push({
      name,
      image: image ?? '',
      buildContext: build ? abs(String(build['context'] ?? '.')) : undefined,
      command,
      user: r.scalar(s['user'], `${at}.user`),
      restart: r.scalar(s['restart'], `${at}.restart`),
      securityOpt: r.strings(s['security_opt'], `${at}.security_opt`),
      capDrop: r.strings(s['cap_drop'], `${at}.cap_drop`),
      capAdd: r.strings(s['cap_add'], `${at}.cap_add`),
      readOnly: readOnly === true,
      tmpfs: typeof s['tmpfs'] === 'string' ? [s['tmpfs']] : r.strings(s['tmpfs'], `${at}.tmpfs`),
      pidsLimit: s['pids_limit'] === undefined ? undefined : Number(s['pids_limit']),
      shmSize: r.scalar(s['shm_size'], `${at}.shm_size`),
      logging: logging
        ? {
            driver: 'json-file',
            options: Object.fromEntries(Object.entries(logOptions).map(([key, value]) => [key, String(value)])),
          }
        : undefined,
      ports: Array.isArray(s['ports']) ? s['ports'].map(String) : r.strings(s['ports'], `${at}.ports`),
      networks,
      secrets: r.strings(s['secrets'], `${at}.secrets`),
      environment,
      volumes,
      dependsOn,
      healthcheck,
      memory: r.scalar(limits['memory'], `${at}.deploy.resources.limits.memory`),
      cpus: r.scalar(limits['cpus'], `${at}.deploy.resources.limits.cpus`),
    });
  }

  const networks = Object.entries(
    r.keys(top['networks'], 'networks', Object.keys((top['networks'] as Json | undefined) ?? {})),
  ).map(([name, raw]) => {
    const n = r.keys(raw, `networks.${name}`, ['driver', 'internal']);
    const driver = String(n['driver'] ?? 'bridge');
    if (driver !== 'bridge') r.unsupported.push(`networks.${name}.driver=${driver}`);
    return { name, internal: n['internal'] === true, driver };
  });
  const volumes = Object.keys(
    r.keys(top['volumes'], 'volumes', Object.keys((top['volumes'] as Json | undefined) ?? {})),
  );
  for (const name of volumes) r.keys((top['volumes'] as Json)[name], `volumes.${name}`, []);
  const secrets: Record<string, string> = {};
  for (const [name, raw] of Object.entries(
    r.keys(top['secrets'], 'secrets', Object.keys((top['secrets'] as Json | undefined) ?? {})),
  )) {
    const file = r.scalar(r.keys(raw, `secrets.${name}`, ['file'])['file'], `secrets.${name}.file`);
    if (!file) r.unsupported.push(`secrets.${name} (only file: secrets)`);
    else secrets[name] = abs(file);
  }

  // References must resolve, as Compose requires.
  for (const service of services) {
    for (const network of service.networks)
      if (!networks.some((n) => n.name === network))
        r.unsupported.push(`services.${service.name}.networks ${network} (undeclared)`);
    for (const secret of service.secrets)
      if (!(secret in secrets)) r.unsupported.push(`services.${service.name}.secrets ${secret} (undeclared)`);
    for (const volume of service.volumes)
      if (volume.kind === 'volume' && !volumes.includes(volume.source))
        r.unsupported.push(`services.${service.name}.volumes ${volume.source} (undeclared)`);
    for (const dependency of service.dependsOn)
      if (!services.some((s) => s.name === dependency.service))
        r.unsupported.push(`services.${service.name}.depends_on ${dependency.service} (no such service)`);
    for (const option of service.securityOpt)
      if (!/^no-new-privileges(:true)?$/.test(option))
        r.unsupported.push(`services.${service.name}.security_opt ${option}`);
    if (service.restart !== undefined && !['no', 'always', 'on-failure', 'unless-stopped'].includes(service.restart))
      r.unsupported.push(`services.${service.name}.restart=${service.restart}`);
  }
  if (r.unsupported.length > 0)
    throw new Error(
      `compose.yaml uses keys the e2e runner does not support (add them to test/e2e/runner/compose.ts):\n  ${r.unsupported.join('\n  ')}`,
    );
  return { directory, project, services, networks, volumes, secrets };
}
