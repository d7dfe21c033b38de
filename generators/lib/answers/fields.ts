/**
 * The answers schema: every question declared once, as data. From this list come the prompts,
 * the CLI flags and `--help`, the answers-file validation, what `.yo-rc.json` stores, and the
 * typed `Answers` value (see resolve.ts). Adding a question means adding one entry here.
 */
import { MEMORY_CEILING_BYTES, MEMORY_RULE, formatMebibytes, parseMemorySize, type MemorySize } from './memory-size.js';
import { nginxScratchBytes } from './cross-field.js';
import { dbNameFromProjectName, projectNameFromDirectory } from './defaults.js';
import type { Field, FieldKey, FlatAnswers } from './field.js';
import {
  broken,
  MAX_BACKEND_REPLICAS,
  ok,
  parseBindAddress,
  parseBoolean,
  parseChoice,
  parseDbUser,
  parseHostName,
  parsePgIdentifier,
  parsePort,
  parseProjectName,
  parseRate,
  parseReplicas,
  parseRoutes,
  parseTlsPath,
} from './parsers.js';
import type { Route } from './routes.js';
import {
  ALL_INTERFACES,
  RESTART_POLICIES,
  TLS_MODES,
  type BudgetedService,
  type RestartPolicy,
  type TlsMode,
} from './types.js';

/** Smallest limit each service starts and serves with (proved by the end-to-end tests). */
export const MEMORY_FLOORS: Record<BudgetedService, string> = {
  nginx: '16m',
  backend: '128m',
  postgres: '128m',
  redis: '16m',
};
const MEMORY_DEFAULTS: Record<BudgetedService, string> = {
  nginx: '50m',
  backend: '512m',
  postgres: '1g',
  redis: '200m',
};

/** CPU limit of one service, in CPUs (Compose `cpus`); null leaves it unlimited. */
function cpuField(service: BudgetedService): Field<number | null> {
  return plainAnswer<number | null>({
    key: `cpus.${service}`,
    flag: `cpus-${service}`,
    description: `CPU limit of the ${service} container, in CPUs (e.g. 0.5); none by default${service === 'redis' ? '; ignored without Redis' : ''}`,
    parse(raw, origin) {
      if (raw === null) return ok(null);
      const value =
        origin === 'flag' && typeof raw === 'string' && /^[0-9]+(\.[0-9]{1,2})?$/.test(raw) ? Number(raw) : raw;
      // Two decimals at most: Compose and the engines work in hundredths of a CPU. Compared as the
      // decimal the value prints as: 0.29 * 100 is 28.999999999999996 in binary floating point.
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        value < 0.01 ||
        value > 256 ||
        Number(value.toFixed(2)) !== value
      ) {
        return broken('must be a number of CPUs from 0.01 to 256 with at most two decimals, or null for no limit');
      }
      return ok(value);
    },
    fixedDefault: null,
    askedWhen: () => false,
  });
}

function memoryField(service: BudgetedService): Field<MemorySize> {
  const floor = parseMemorySize(MEMORY_FLOORS[service])!;
  return {
    key: `memory.${service}`,
    flag: `memory-${service}`,
    flagType: 'string',
    description: `Memory limit of the ${service} container (Compose byte value, at least ${floor.text})${service === 'redis' ? '; ignored without Redis' : ''}`,
    prompt: 'input',
    defaultText: MEMORY_DEFAULTS[service],
    parse(raw) {
      if (typeof raw !== 'string') return broken(`must be a string: ${MEMORY_RULE}`);
      const size = parseMemorySize(raw.trim() === raw ? raw : '');
      // A whole number with a unit that parseMemorySize refuses is too big to count in bytes
      // ("9999999999999g"): say so, rather than that it is not a whole number with a unit.
      if (!size)
        return broken(
          /^[1-9][0-9]*(?:b|k|kb|m|mb|g|gb)$/i.test(raw)
            ? `is above the ceiling of ${formatMebibytes(MEMORY_CEILING_BYTES)}`
            : MEMORY_RULE,
        );
      if (size.bytes < floor.bytes) return broken(`is below the ${floor.text} the ${service} service needs to start`);
      if (size.bytes > MEMORY_CEILING_BYTES)
        return broken(`is above the ceiling of ${formatMebibytes(MEMORY_CEILING_BYTES)}`);
      return ok(size);
    },
    defaultValue: () => parseMemorySize(MEMORY_DEFAULTS[service])!,
    serialise: (size) => size.text,
    askedWhen: service === 'redis' ? (resolved) => resolved.redis !== false : undefined,
  };
}

/** Most a request body may be when nothing else limits it; a small nginx budget lowers it. */
const MAX_BODY_DEFAULT = parseMemorySize('10m')!;
const MAX_BODY_FLOOR = parseMemorySize('1k')!;

const maxBodySizeField: Field<MemorySize> = {
  key: 'maxBodySize',
  flag: 'max-body-size',
  flagType: 'string',
  description:
    "Largest request body nginx accepts (client_max_body_size); at most nginx's /tmp, a quarter of memory.nginx",
  prompt: 'input',
  defaultText: "10m, or nginx's /tmp if smaller",
  parse(raw) {
    if (typeof raw !== 'string') return broken(`must be a string: ${MEMORY_RULE}`);
    const size = parseMemorySize(raw.trim() === raw ? raw : '');
    if (!size)
      return broken(
        /^[1-9][0-9]*(?:b|k|kb|m|mb|g|gb)$/i.test(raw)
          ? `is above the ceiling of ${formatMebibytes(MEMORY_CEILING_BYTES)}`
          : MEMORY_RULE,
      );
    if (size.bytes < MAX_BODY_FLOOR.bytes)
      return broken(`is below ${MAX_BODY_FLOOR.text}: nginx needs room for a form post`);
    return ok(size);
  },
  defaultValue: (context) => {
    const scratch = nginxScratchBytes(
      (context.resolved['memory.nginx'] ?? parseMemorySize(MEMORY_DEFAULTS.nginx)!).bytes,
    );
    return scratch < MAX_BODY_DEFAULT.bytes ? parseMemorySize(formatMebibytes(scratch))! : MAX_BODY_DEFAULT;
  },
  serialise: (size) => size.text,
  askedWhen: () => false,
};

/**
 * A plain answer: its JSON value is its typed value, so it is stored as it is; a text prompt
 * unless it is a yes/no question. `fixedDefault` also gives the help text's default.
 */
function plainAnswer<V extends string | number | boolean | null>(
  spec: Pick<Field<V>, 'key' | 'flag' | 'description' | 'parse' | 'askedWhen'> &
    ({ fixedDefault: V } | { defaultValue: Field<V>['defaultValue']; defaultText: string }),
): Field<V> {
  const isBoolean = 'fixedDefault' in spec && typeof spec.fixedDefault === 'boolean';
  return {
    key: spec.key,
    flag: spec.flag,
    flagType: isBoolean ? 'boolean' : 'string',
    description: spec.description,
    prompt: isBoolean ? 'confirm' : 'input',
    defaultText: 'fixedDefault' in spec ? String(spec.fixedDefault) : spec.defaultText,
    parse: spec.parse,
    defaultValue: 'fixedDefault' in spec ? () => spec.fixedDefault : spec.defaultValue,
    serialise: (value) => value,
    askedWhen: spec.askedWhen,
  };
}

export const FIELDS = {
  projectName: plainAnswer<string>({
    key: 'projectName',
    flag: 'project-name',
    description: 'Compose project name (prefixes containers, networks and volumes)',
    parse: parseProjectName,
    defaultValue: (context) => projectNameFromDirectory(context.destinationName),
    defaultText: "the directory's name, normalised",
  }),
  dbName: plainAnswer<string>({
    key: 'dbName',
    flag: 'db-name',
    description: 'PostgreSQL database name',
    parse: parsePgIdentifier,
    defaultValue: (context) => dbNameFromProjectName(context.resolved.projectName ?? 'app'),
    defaultText: 'projectName with "-" as "_"',
  }),
  dbUser: plainAnswer<string>({
    key: 'dbUser',
    flag: 'db-user',
    description: 'PostgreSQL role the backend logs in as',
    parse: parseDbUser,
    fixedDefault: 'app',
  }),
  serverName: plainAnswer<string>({
    key: 'serverName',
    flag: 'server-name',
    description: 'Host name nginx answers to (requests for other names are dropped)',
    parse: parseHostName,
    fixedDefault: 'localhost',
  }),
  httpPort: plainAnswer<number>({
    key: 'httpPort',
    flag: 'http-port',
    description: 'Host port nginx publishes',
    parse: parsePort,
    fixedDefault: 8080,
  }),
  redis: plainAnswer<boolean>({
    key: 'redis',
    flag: 'redis',
    description: 'Include Redis (--no-redis to leave it out)',
    parse: parseBoolean,
    fixedDefault: true,
  }),
  restart: plainAnswer<RestartPolicy>({
    key: 'restart',
    flag: 'restart',
    description: 'Restart policy of every service',
    parse: parseChoice(RESTART_POLICIES),
    fixedDefault: 'unless-stopped',
  }),
  bindAddress: plainAnswer<string>({
    key: 'bindAddress',
    flag: 'bind-address',
    description: 'Host address the published ports listen on ("127.0.0.1" behind another proxy)',
    parse: parseBindAddress,
    defaultValue: () => ALL_INTERFACES,
    defaultText: '"*" (all interfaces)',
  }),
  rateLimit: plainAnswer<number>({
    key: 'rateLimit',
    flag: 'rate-limit',
    description:
      'Requests per second nginx lets one client address make to the backend (bursts of twice that); beyond it answers 429',
    parse: parseRate,
    fixedDefault: 20,
  }),
  tls: plainAnswer<TlsMode>({
    key: 'tls',
    flag: 'tls',
    description:
      'HTTPS: "off", "self-signed" (certificate made now, kept in secrets/) or "provided" (tlsCert and tlsKey)',
    parse: parseChoice(TLS_MODES),
    fixedDefault: 'off',
  }),
  tlsCert: plainAnswer<string | null>({
    key: 'tlsCert',
    flag: 'tls-cert',
    description: 'Certificate chain (PEM) for tls "provided"; ignored otherwise',
    parse: parseTlsPath,
    fixedDefault: null,
    askedWhen: (resolved) => resolved.tls === 'provided',
  }),
  tlsKey: plainAnswer<string | null>({
    key: 'tlsKey',
    flag: 'tls-key',
    description: 'Private key (PEM) for tls "provided"; ignored otherwise',
    parse: parseTlsPath,
    fixedDefault: null,
    askedWhen: (resolved) => resolved.tls === 'provided',
  }),
  httpsPort: plainAnswer<number>({
    key: 'httpsPort',
    flag: 'https-port',
    description: 'Host port nginx publishes for HTTPS (with tls on)',
    parse: parsePort,
    fixedDefault: 8443,
    askedWhen: (resolved) => resolved.tls !== undefined && resolved.tls !== 'off',
  }),
  hstsPreload: plainAnswer<boolean>({
    key: 'hstsPreload',
    flag: 'hsts-preload',
    description:
      'HSTS with includeSubDomains and preload, for submission to the browsers\' preload list (tls "provided" only); without it HSTS covers this host alone',
    parse: parseBoolean,
    fixedDefault: false,
    askedWhen: (resolved) => resolved.tls === 'provided',
  }),
  'memory.nginx': memoryField('nginx'),
  'memory.backend': memoryField('backend'),
  'memory.postgres': memoryField('postgres'),
  'memory.redis': memoryField('redis'),
  'cpus.nginx': cpuField('nginx'),
  'cpus.backend': cpuField('backend'),
  'cpus.postgres': cpuField('postgres'),
  'cpus.redis': cpuField('redis'),
  maxBodySize: maxBodySizeField,
  publicHealth: plainAnswer<boolean>({
    key: 'publicHealth',
    flag: 'public-health',
    description:
      "Serve the backend's /health/ on the published ports too, for a load balancer or monitor outside the host; without it only the containers and verify reach it",
    parse: parseBoolean,
    fixedDefault: false,
    askedWhen: () => false,
  }),
  routes: {
    key: 'routes',
    flag: 'routes',
    flagType: 'string',
    description: 'Path prefixes nginx proxies to the backend (comma-separated on the command line)',
    prompt: 'input',
    defaultText: '["/api"]',
    parse: parseRoutes,
    defaultValue: () => [{ path: '/api' }],
    serialise: (routes) => routes.map((route) => ({ path: route.path })),
  } satisfies Field<Route[]>,
  swarm: plainAnswer<boolean>({
    key: 'swarm',
    flag: 'swarm',
    description: 'Also write a Docker Swarm target: stack.yaml and nginx/nginx.swarm.conf (--no-swarm to leave it out)',
    parse: parseBoolean,
    fixedDefault: false,
  }),
  backendReplicas: plainAnswer<number>({
    key: 'backendReplicas',
    flag: 'backend-replicas',
    description: `Backend replicas on Docker Swarm, each with the backend's memory budget (Compose runs one); 1 to ${MAX_BACKEND_REPLICAS}`,
    parse: parseReplicas,
    fixedDefault: 1,
    askedWhen: (resolved) => resolved.swarm === true,
  }),
} satisfies { [K in FieldKey]: Field<FlatAnswers[K]> };

export const FIELD_LIST: readonly Field<unknown>[] = Object.values(FIELDS) as Field<unknown>[];
