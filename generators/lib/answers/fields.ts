/**
 * The answers schema: every question declared once, as data. From this list come the prompts,
 * the CLI flags and `--help`, the answers-file validation, what `.yo-rc.json` stores, and the
 * typed `Answers` value (see resolve.ts). Adding a question means adding one entry here.
 */
import { MEMORY_CEILING_BYTES, MEMORY_RULE, formatMebibytes, parseMemorySize, type MemorySize } from './memory-size.js';
import { MAX_ROUTES, normaliseRoutePath, type Route } from './routes.js';
import { isIP } from 'node:net';
import { ALL_INTERFACES, RESTART_POLICIES, TLS_MODES, type Answers, type BudgetedService, type JsonValue, type RestartPolicy, type TlsMode } from './types.js';
import { describeValue } from '../errors.js';
import { tmpfsMount } from '../stack/tuning.js';

export type Parsed<V> = { ok: true; value: V } | { ok: false; rule: string };
/** Where a raw value came from: files hold typed JSON/YAML values, flags hold strings. */
export type Origin = 'file' | 'flag';

export interface DefaultContext {
  /** Base name of the destination directory. */
  destinationName: string;
  /** Answers resolved so far (fields are resolved in declaration order). */
  resolved: Partial<FlatAnswers>;
}

export type PromptKind = 'input' | 'confirm';

export interface Field<V> {
  /** Public answers-file key; a dot nests it (`memory.nginx` is `{ "memory": { "nginx": … } }`). */
  readonly key: string;
  /** CLI flag name without the leading dashes. */
  readonly flag: string;
  readonly flagType: 'string' | 'boolean';
  readonly description: string;
  readonly prompt: PromptKind;
  /** Human summary of the default, for help text and the README. */
  readonly defaultText: string;
  parse(raw: unknown, origin: Origin): Parsed<V>;
  defaultValue(context: DefaultContext): V;
  /** JSON form for the answers file and `.yo-rc.json`; parse(serialise(v), 'file') gives v back. */
  serialise(value: V): JsonValue;
  /** Asked interactively only when this holds; otherwise it takes its default silently. */
  askedWhen?(resolved: Partial<FlatAnswers>): boolean;
}

/**
 * Answers keyed as the fields are: the nested budgets flattened to their dotted public keys
 * ("memory.nginx"), everything else as in Answers.
 */
export type FlatAnswers = Omit<Answers, 'memory' | 'cpus'> & {
  [Service in BudgetedService as `memory.${Service}`]: MemorySize;
} & {
  [Service in BudgetedService as `cpus.${Service}`]: number | null;
};
export type FieldKey = keyof FlatAnswers;


const ok = <V>(value: V): Parsed<V> => ({ ok: true, value });
const broken = <V>(rule: string): Parsed<V> => ({ ok: false, rule });

function parseText(raw: unknown, pattern: RegExp, maxLength: number, rule: string): Parsed<string> {
  if (typeof raw !== 'string') return broken('must be a string');
  if (raw.length > maxLength) return broken(`must be at most ${maxLength} characters`);
  return pattern.test(raw) ? ok(raw) : broken(rule);
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
// The project name also names the backend image, `<projectName>-backend:local`, and Docker's
// reference grammar joins lower-case letters and digits only by ".", "_", "__" or dashes: "a_",
// "a_-b" or "a___b" are valid Compose project names but make `docker compose build` fail with
// "invalid reference format". Trailing dashes are fine: they join the "-" of "-backend".
const IMAGE_SAFE_PROJECT_NAME = /^[a-z0-9]+(?:(?:_{1,2}|-+)[a-z0-9]+)*-*$/;
const PG_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function parseProjectName(raw: unknown): Parsed<string> {
  const parsed = parseText(raw, PROJECT_NAME, 63, 'must match ^[a-z0-9][a-z0-9_-]*$ (lower-case letters, digits, "_" and "-")');
  if (parsed.ok && !IMAGE_SAFE_PROJECT_NAME.test(parsed.value)) {
    return broken('must not end with "_" nor put "_" next to "-" or three "_" in a row: it names the backend image "<projectName>-backend"');
  }
  return parsed;
}

function parsePgIdentifier(raw: unknown): Parsed<string> {
  // Identifiers are ASCII by this pattern, so 63 characters are 63 bytes (PostgreSQL's NAMEDATALEN - 1).
  return parseText(raw, PG_IDENTIFIER, 63, 'must be a PostgreSQL identifier: ^[A-Za-z_][A-Za-z0-9_]*$');
}

function parseHostName(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return broken('must be a string');
  // ASCII before lower-casing: "\u212A" (KELVIN SIGN) lower-cases to "k", so a look-alike host
  // name would otherwise be accepted and silently stored as another name.
  const name = /^[A-Za-z0-9.-]*$/.test(raw) ? raw.toLowerCase() : '';
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((label) => HOST_LABEL.test(label))) {
    return broken('must be an RFC 1123 host name: dot-separated labels of a-z, 0-9 and "-", each 1-63 characters, not starting or ending with "-"');
  }
  return ok(name);
}

/** An integer from min to max: a number in files, digits on the command line. */
function integerBetween(min: number, max: number): (raw: unknown, origin: Origin) => Parsed<number> {
  return (raw, origin) => {
    const value = origin === 'flag' && typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return broken(`must be an integer from ${min} to ${max}`);
    return ok(value);
  };
}

const parsePort = integerBetween(1, 65535);
const parseRate = integerBetween(1, 100_000);
/** More replicas than this is a bigger deployment than one stack file on a small swarm is meant for. */
export const MAX_BACKEND_REPLICAS = 32;
const parseReplicas = integerBetween(1, MAX_BACKEND_REPLICAS);

function parseBoolean(raw: unknown): Parsed<boolean> {
  return typeof raw === 'boolean' ? ok(raw) : broken('must be true or false');
}

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
      const value = origin === 'flag' && typeof raw === 'string' && /^[0-9]+(\.[0-9]{1,2})?$/.test(raw) ? Number(raw) : raw;
      // Two decimals at most: Compose and the engines work in hundredths of a CPU. Compared as the
      // decimal the value prints as: 0.29 * 100 is 28.999999999999996 in binary floating point.
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.01 || value > 256 || Number(value.toFixed(2)) !== value) {
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
      if (!size) return broken(/^[1-9][0-9]*(?:b|k|kb|m|mb|g|gb)$/i.test(raw) ? `is above the ceiling of ${formatMebibytes(MEMORY_CEILING_BYTES)}` : MEMORY_RULE);
      if (size.bytes < floor.bytes) return broken(`is below the ${floor.text} the ${service} service needs to start`);
      if (size.bytes > MEMORY_CEILING_BYTES) return broken(`is above the ceiling of ${formatMebibytes(MEMORY_CEILING_BYTES)}`);
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

/** nginx's /tmp for a budget: request bodies beyond its small memory buffer are written there. */
export function nginxScratchBytes(nginxBudgetBytes: number): number {
  return tmpfsMount('/tmp', nginxBudgetBytes).sizeBytes;
}

const maxBodySizeField: Field<MemorySize> = {
  key: 'maxBodySize',
  flag: 'max-body-size',
  flagType: 'string',
  description: "Largest request body nginx accepts (client_max_body_size); at most nginx's /tmp, a quarter of memory.nginx",
  prompt: 'input',
  defaultText: "10m, or nginx's /tmp if smaller",
  parse(raw) {
    if (typeof raw !== 'string') return broken(`must be a string: ${MEMORY_RULE}`);
    const size = parseMemorySize(raw.trim() === raw ? raw : '');
    if (!size) return broken(/^[1-9][0-9]*(?:b|k|kb|m|mb|g|gb)$/i.test(raw) ? `is above the ceiling of ${formatMebibytes(MEMORY_CEILING_BYTES)}` : MEMORY_RULE);
    if (size.bytes < MAX_BODY_FLOOR.bytes) return broken(`is below ${MAX_BODY_FLOOR.text}: nginx needs room for a form post`);
    return ok(size);
  },
  defaultValue: (context) => {
    const scratch = nginxScratchBytes((context.resolved['memory.nginx'] ?? parseMemorySize(MEMORY_DEFAULTS.nginx)!).bytes);
    return scratch < MAX_BODY_DEFAULT.bytes ? parseMemorySize(formatMebibytes(scratch))! : MAX_BODY_DEFAULT;
  },
  serialise: (size) => size.text,
  askedWhen: () => false,
};

export function parseRoutes(raw: unknown, origin: Origin): Parsed<Route[]> {
  // On the command line routes are one comma-separated value: --routes /api,/admin
  const list = origin === 'flag' && typeof raw === 'string' ? raw.split(',').filter((p) => p !== '') : raw;
  if (!Array.isArray(list)) return broken('must be a list of routes, each { "path": "/api" } or a plain "/api"');
  if (list.length > MAX_ROUTES) return broken(`must hold at most ${MAX_ROUTES} routes (got ${list.length})`);
  const routes: Route[] = [];
  const seen = new Map<string, string>();
  for (const [index, item] of list.entries()) {
    const path = routePathOf(item);
    if (typeof path !== 'string') return broken(`item ${index}: ${path.rule}`);
    const normalised = normaliseRoutePath(path);
    // describeValue, not JSON.stringify: the path is raw input (bidi marks, megabytes of text).
    if ('rule' in normalised) return broken(`item ${index} (${describeValue(path)}) ${normalised.rule}`);
    // nginx and Django match paths case-sensitively, but /API beside /api is almost surely a typo.
    const identity = normalised.path.toLowerCase();
    const earlier = seen.get(identity);
    if (earlier !== undefined) {
      return broken(`item ${index} (${describeValue(path)}) duplicates ${describeValue(earlier)}: routes must be unique after normalisation (trailing "/" removed, case ignored)`);
    }
    seen.set(identity, path);
    routes.push({ path: normalised.path });
  }
  return ok(routes);
}

function routePathOf(item: unknown): string | { rule: string } {
  if (typeof item === 'string') return item;
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { rule: 'must be a string or an object { "path": "/..." }' };
  }
  const extra = Object.keys(item).filter((key) => key !== 'path');
  if (extra.length > 0) return { rule: `has unknown key ${describeValue(extra[0])} (a route object holds only "path")` };
  const path = (item as { path?: unknown }).path;
  return typeof path === 'string' ? path : { rule: 'needs "path", a string' };
}

function parseChoice<T extends string>(choices: readonly T[]): (raw: unknown) => Parsed<T> {
  return (raw) => (typeof raw === 'string' && (choices as readonly string[]).includes(raw) ? ok(raw as T) : broken(`must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`));
}

const IPV4 = /^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

function parseBindAddress(raw: unknown): Parsed<string> {
  if (raw === ALL_INTERFACES) return ok(raw);
  if (typeof raw !== 'string') return broken('must be a string');
  if (IPV4.test(raw)) return ok(raw);
  // IPv6: hex groups and colons only (no zone id, which Compose port syntax cannot carry).
  if (/^[0-9A-Fa-f:.]{2,45}$/.test(raw) && isIP(raw) === 6) return ok(raw.toLowerCase());
  return broken(`must be "${ALL_INTERFACES}" (all interfaces) or an IPv4 or IPv6 address such as "127.0.0.1" or "::1"`);
}

const TLS_PATH = /^\/?(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** A certificate or key path: relative to the repository or absolute, plain characters, no "..". */
function parseTlsPath(raw: unknown): Parsed<string | null> {
  if (raw === null) return ok(null);
  if (typeof raw !== 'string') return broken('must be a file path (a string) or null');
  if (raw.length > 255 || !TLS_PATH.test(raw) || raw.split('/').some((segment) => segment === '..' || segment === '.')) {
    return broken('must be a file path of A-Z a-z 0-9 . _ - and "/", relative to the repository or absolute, without "." or ".." segments');
  }
  return ok(raw);
}

/** Rules that join two answers; checked once every answer is known. */
export function crossFieldProblems(flat: FlatAnswers): { field: FieldKey; value: unknown; rule: string }[] {
  const problems: { field: FieldKey; value: unknown; rule: string }[] = [];
  if (flat.tls === 'provided') {
    if (flat.tlsCert === null) problems.push({ field: 'tlsCert', value: null, rule: 'is required when tls is "provided"' });
    if (flat.tlsKey === null) problems.push({ field: 'tlsKey', value: null, rule: 'is required when tls is "provided"' });
  }
  if (flat.tls !== 'off' && flat.httpsPort === flat.httpPort) {
    problems.push({ field: 'httpsPort', value: flat.httpsPort, rule: 'must differ from httpPort' });
  }
  // Browsers preload only names with a publicly trusted certificate, and leaving the list takes
  // months: never for a self-signed certificate, and never by default.
  if (flat.hstsPreload && flat.tls !== 'provided') {
    problems.push({ field: 'hstsPreload', value: true, rule: `needs tls "provided": a ${flat.tls === 'off' ? 'stack without HTTPS' : 'self-signed certificate'} cannot be preloaded` });
  }
  // nginx writes a body beyond its memory buffer to /tmp, a tmpfs sized from its budget: a body
  // that cannot fit there would fail with 500 however the rest of the stack is doing.
  const scratch = nginxScratchBytes(flat['memory.nginx'].bytes);
  if (flat.maxBodySize.bytes > scratch) {
    problems.push({ field: 'maxBodySize', value: flat.maxBodySize.text, rule: `must fit nginx's /tmp, ${formatMebibytes(scratch)} (a quarter of memory.nginx ${flat['memory.nginx'].text}, at most 64m): lower it or raise memory.nginx` });
  }
  // A Swarm service's published port has no host address: it listens on every address of its
  // node. Writing the stack file anyway would silently widen what the user asked for.
  if (flat.swarm && flat.bindAddress !== ALL_INTERFACES) {
    problems.push({ field: 'bindAddress', value: flat.bindAddress, rule: `must be "${ALL_INTERFACES}" with swarm: Swarm publishes a port on every address of its node` });
  }
  return problems;
}

/** Default project name: the directory's name made into a valid Compose project name. */
export function projectNameFromDirectory(directoryName: string): string {
  const name = directoryName
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    // Keep it a valid image name too (see IMAGE_SAFE_PROJECT_NAME): "_" beside "-", or "___", becomes "-".
    .replace(/[_-]+/g, (run) => (/^(?:_{1,2}|-+)$/.test(run) ? run : '-'))
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[-_]+$/, '');
  return name === '' ? 'secure-stack' : name;
}

export function dbNameFromProjectName(projectName: string): string {
  const name = projectName.replace(/-/g, '_');
  return (/^[0-9]/.test(name) ? `db_${name}` : name).slice(0, 63);
}

/**
 * A plain answer: its JSON value is its typed value, so it is stored as it is; a text prompt
 * unless it is a yes/no question. `fixedDefault` also gives the help text's default.
 */
function plainAnswer<V extends string | number | boolean | null>(
  spec: Pick<Field<V>, 'key' | 'flag' | 'description' | 'parse' | 'askedWhen'> & ({ fixedDefault: V } | { defaultValue: Field<V>['defaultValue']; defaultText: string }),
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

function parseDbUser(raw: unknown): Parsed<string> {
  const parsed = parsePgIdentifier(raw);
  if (parsed.ok && parsed.value.toLowerCase().startsWith('pg_')) return broken('must not start with "pg_" (reserved by PostgreSQL)');
  // The database's owner role, a superuser: the backend's role must be another.
  if (parsed.ok && parsed.value === 'db_owner') return broken('must not be "db_owner", the database\'s owner role, which the backend never uses');
  return parsed;
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
  dbUser: plainAnswer<string>({ key: 'dbUser', flag: 'db-user', description: 'PostgreSQL role the backend logs in as', parse: parseDbUser, fixedDefault: 'app' }),
  serverName: plainAnswer<string>({
    key: 'serverName',
    flag: 'server-name',
    description: 'Host name nginx answers to (requests for other names are dropped)',
    parse: parseHostName,
    fixedDefault: 'localhost',
  }),
  httpPort: plainAnswer<number>({ key: 'httpPort', flag: 'http-port', description: 'Host port nginx publishes', parse: parsePort, fixedDefault: 8080 }),
  redis: plainAnswer<boolean>({ key: 'redis', flag: 'redis', description: 'Include Redis (--no-redis to leave it out)', parse: parseBoolean, fixedDefault: true }),
  restart: plainAnswer<RestartPolicy>({ key: 'restart', flag: 'restart', description: 'Restart policy of every service', parse: parseChoice(RESTART_POLICIES), fixedDefault: 'unless-stopped' }),
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
    description: 'Requests per second nginx lets one client address make to the backend (bursts of twice that); beyond it answers 429',
    parse: parseRate,
    fixedDefault: 20,
  }),
  tls: plainAnswer<TlsMode>({
    key: 'tls',
    flag: 'tls',
    description: 'HTTPS: "off", "self-signed" (certificate made now, kept in secrets/) or "provided" (tlsCert and tlsKey)',
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
    description: 'HSTS with includeSubDomains and preload, for submission to the browsers\' preload list (tls "provided" only); without it HSTS covers this host alone',
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
    description: "Serve the backend's /health/ on the published ports too, for a load balancer or monitor outside the host; without it only the containers and verify reach it",
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

/** The value at a dotted answer key ("memory.nginx") of a nested answers object. */
export function valueAt(answers: object, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], answers);
}

/** Nests flat answers by their dotted keys: { "memory.nginx": x } becomes { memory: { nginx: x } }. */
export function nestByKey(flat: Record<string, unknown>): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const field of FIELD_LIST) {
    const [parent, child] = field.key.split('.') as [string, string | undefined];
    if (child === undefined) nested[parent] = flat[field.key];
    else nested[parent] = { ...((nested[parent] as Record<string, unknown> | undefined) ?? {}), [child]: flat[field.key] };
  }
  return nested;
}

export function toAnswers(flat: FlatAnswers): Answers {
  return nestByKey(flat as unknown as Record<string, unknown>) as unknown as Answers;
}
