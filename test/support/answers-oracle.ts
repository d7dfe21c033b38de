/**
 * A second, independent statement of the answers rules, written from the README's table (not from
 * generators/lib/answers): character loops and BigInt instead of the schema's regular expressions.
 * The property tests compare the real validation against it, so a rule that lets through more
 * (or less) than the README promises fails a test, with the value that shows it.
 */

/** The serialised (answers-file / .yo-rc.json) form of one accepted value, or the rule it breaks. */
export type Outcome = { ok: true; value: unknown } | { ok: false; rule: RegExp };
export type Origin = 'file' | 'flag';

export const FIELD_KEYS = [
  'projectName',
  'dbName',
  'dbUser',
  'serverName',
  'httpPort',
  'redis',
  'restart',
  'bindAddress',
  'rateLimit',
  'tls',
  'tlsCert',
  'tlsKey',
  'httpsPort',
  'hstsPreload',
  'publicHealth',
  'memory.nginx',
  'memory.backend',
  'memory.postgres',
  'memory.redis',
  'cpus.nginx',
  'cpus.backend',
  'cpus.postgres',
  'cpus.redis',
  'maxBodySize',
  'routes',
  'swarm',
  'backendReplicas',
] as const;
export type Key = (typeof FIELD_KEYS)[number];
/** The flag of each answer, as the README's table names it. */
export const FLAG: Record<Key, string> = {
  projectName: 'project-name',
  dbName: 'db-name',
  dbUser: 'db-user',
  serverName: 'server-name',
  httpPort: 'http-port',
  redis: 'redis',
  restart: 'restart',
  bindAddress: 'bind-address',
  rateLimit: 'rate-limit',
  tls: 'tls',
  tlsCert: 'tls-cert',
  tlsKey: 'tls-key',
  httpsPort: 'https-port',
  hstsPreload: 'hsts-preload',
  publicHealth: 'public-health',
  'memory.nginx': 'memory-nginx',
  'memory.backend': 'memory-backend',
  'memory.postgres': 'memory-postgres',
  'memory.redis': 'memory-redis',
  'cpus.nginx': 'cpus-nginx',
  'cpus.backend': 'cpus-backend',
  'cpus.postgres': 'cpus-postgres',
  'cpus.redis': 'cpus-redis',
  maxBodySize: 'max-body-size',
  routes: 'routes',
  swarm: 'swarm',
  backendReplicas: 'backend-replicas',
};
export const MEMORY_SERVICES = ['nginx', 'backend', 'postgres', 'redis'] as const;

const accept = (value: unknown): Outcome => ({ ok: true, value });
const reject = (rule: RegExp): Outcome => ({ ok: false, rule });

const isLower = (c: string) => c >= 'a' && c <= 'z';
const isUpper = (c: string) => c >= 'A' && c <= 'Z';
const isDigit = (c: string) => c >= '0' && c <= '9';
const chars = (s: string) => s.split(''); // UTF-16 units: a surrogate half is never a valid character here

/** Compose project name; it also names the backend image `<projectName>-backend`, so it must keep that a valid image name. */
function projectName(raw: unknown): Outcome {
  if (typeof raw !== 'string') return reject(/must be a string/);
  if (raw.length > 63) return reject(/must be at most 63 characters/);
  const cs = chars(raw);
  const ok =
    cs.length > 0 &&
    (isLower(cs[0]!) || isDigit(cs[0]!)) &&
    cs.every((c) => isLower(c) || isDigit(c) || c === '_' || c === '-');
  if (!ok) return reject(/must match \^\[a-z0-9\]\[a-z0-9_-\]\*\$/);
  // Image path component: alnum runs joined by "_", "__" or dashes; a trailing dash run joins "-backend".
  const runs = raw.match(/[a-z0-9]+|[_-]+/g)!;
  for (const [index, run] of runs.entries()) {
    if (isLower(run[0]!) || isDigit(run[0]!)) continue;
    const last = index === runs.length - 1;
    const dashes = chars(run).every((c) => c === '-');
    if (!(dashes || (!last && (run === '_' || run === '__')))) return reject(/backend image/);
  }
  return accept(raw);
}

function pgIdentifier(raw: unknown): Outcome {
  if (typeof raw !== 'string') return reject(/must be a string/);
  if (raw.length > 63) return reject(/must be at most 63 characters/);
  const cs = chars(raw);
  const head = cs[0];
  const ok =
    head !== undefined &&
    (isLower(head) || isUpper(head) || head === '_') &&
    cs.every((c) => isLower(c) || isUpper(c) || isDigit(c) || c === '_');
  return ok ? accept(raw) : reject(/must be a PostgreSQL identifier/);
}

function dbUser(raw: unknown): Outcome {
  const outcome = pgIdentifier(raw);
  if (outcome.ok && (raw as string).slice(0, 3).toLowerCase() === 'pg_') return reject(/must not start with "pg_"/);
  if (outcome.ok && raw === 'db_owner') return reject(/must not be "db_owner", the database's owner role/);
  return outcome;
}

/** RFC 1123 host name, ASCII only (a look-alike letter is not "a-z"), stored lower-case. */
function serverName(raw: unknown): Outcome {
  if (typeof raw !== 'string') return reject(/must be a string/);
  const broken = reject(/must be an RFC 1123 host name/);
  if (!chars(raw).every((c) => isLower(c) || isUpper(c) || isDigit(c) || c === '-' || c === '.')) return broken;
  const name = chars(raw)
    .map((c) => (isUpper(c) ? String.fromCharCode(c.charCodeAt(0) + 32) : c))
    .join('');
  if (name.length < 1 || name.length > 253) return broken;
  for (const label of name.split('.')) {
    if (label.length < 1 || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return broken;
  }
  return accept(name);
}

/**
 * A whole number from `min` to `max` (httpPort 1-65535, rateLimit 1-100000, backendReplicas 1-32):
 * a JSON or YAML integer in files, digits on the command line.
 */
function integerFrom(min: number, max: number): (raw: unknown, origin: Origin) => Outcome {
  return (raw, origin) => {
    let value = raw;
    if (origin === 'flag' && typeof raw === 'string' && raw.length > 0 && chars(raw).every(isDigit))
      value = Number(raw);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      return reject(new RegExp(`must be an integer from ${min} to ${max}`));
    return accept(value);
  };
}
const port = integerFrom(1, 65535);
const rateLimit = integerFrom(1, 100000);
const backendReplicas = integerFrom(1, 32);

/** Restart policy of every service: one of Compose's four, spelled exactly (YAML's `no` is a string). */
function restart(raw: unknown): Outcome {
  const policies = ['unless-stopped', 'always', 'on-failure', 'no'];
  return typeof raw === 'string' && policies.includes(raw)
    ? accept(raw)
    : reject(/must be one of "unless-stopped", "always", "on-failure", "no"/);
}

/** HTTPS: one of three modes, spelled exactly (a bare YAML 1.2 `off` is the string "off"). */
function tls(raw: unknown): Outcome {
  const modes = ['off', 'self-signed', 'provided'];
  return typeof raw === 'string' && modes.includes(raw)
    ? accept(raw)
    : reject(/must be one of "off", "self-signed", "provided"/);
}

/**
 * A certificate or key file: null, or a path of at most 255 characters, relative or absolute,
 * whose segments each start with a letter, digit or "_" and hold only A-Z a-z 0-9 . _ -
 * (so no empty, "." or ".." segment and nothing a shell or Compose would read).
 */
function tlsPath(raw: unknown): Outcome {
  if (raw === null) return accept(null);
  if (typeof raw !== 'string') return reject(/must be a file path \(a string\) or null/);
  const broken = reject(
    /must be a file path of A-Z a-z 0-9 \. _ - and "\/", relative to the repository or absolute, without "\." or "\.\." segments/,
  );
  if (raw.length > 255) return broken;
  const segments = (raw.startsWith('/') ? raw.slice(1) : raw).split('/');
  const segmentOk = (segment: string) =>
    segment.length > 0 &&
    (isLower(segment[0]!) || isUpper(segment[0]!) || isDigit(segment[0]!) || segment[0] === '_') &&
    chars(segment).every((c) => isLower(c) || isUpper(c) || isDigit(c) || '._-'.includes(c));
  return segments.every(segmentOk) ? accept(raw) : broken;
}

/** A dotted quad, each part 0-255 written without a leading zero. */
function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return (
    parts.length === 4 &&
    parts.every(
      (part) =>
        part.length >= 1 &&
        part.length <= 3 &&
        chars(part).every(isDigit) &&
        !(part.length > 1 && part.startsWith('0')) &&
        Number(part) <= 255,
    )
  );
}

/** RFC 4291 text: eight groups of 1-4 hex digits, "::" once for one or more zero groups, an IPv4 tail for the last two; no zone. */
function isIpv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const groups = halves.flatMap(groupsOf);
  let count = groups.length;
  const last = groups.at(-1);
  if (last?.includes('.')) {
    if (!isIpv4(last) || !text.endsWith(last)) return false;
    groups.pop();
    count += 1;
  }
  const hex = (group: string) =>
    group.length >= 1 &&
    group.length <= 4 &&
    chars(group).every((c) => isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
  if (!groups.every(hex)) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** Where the published ports listen: "*", an IPv4 address, or an IPv6 address (stored lower-case). */
function bindAddress(raw: unknown): Outcome {
  if (raw === '*') return accept(raw);
  const broken = reject(/must be "\*" \(all interfaces\) or an IPv4 or IPv6 address/);
  if (typeof raw !== 'string') return reject(/must be a string/);
  if (isIpv4(raw)) return accept(raw);
  return isIpv6(raw) ? accept(raw.toLowerCase()) : broken;
}

/**
 * CPUs of one container: a number from 0.01 to 256 with at most two decimals, or null (no limit);
 * on the command line, digits with an optional point and one or two decimals. Decided on the
 * decimal text of the value, never on binary arithmetic.
 */
function cpus(raw: unknown, origin: Origin): Outcome {
  const broken = reject(/must be a number of CPUs from 0\.01 to 256 with at most two decimals, or null for no limit/);
  if (raw === null) return accept(null);
  let text: string;
  if (origin === 'flag') {
    if (typeof raw !== 'string') return broken;
    const [whole = '', decimals, ...rest] = raw.split('.');
    if (
      rest.length > 0 ||
      whole === '' ||
      !chars(whole).every(isDigit) ||
      (decimals !== undefined && (decimals.length < 1 || decimals.length > 2 || !chars(decimals).every(isDigit)))
    )
      return broken;
    text = raw;
  } else {
    if (typeof raw !== 'number' || !Number.isFinite(raw)) return broken;
    text = String(raw);
    if (text.includes('e')) return broken; // below 1e-6 or above 1e21: outside 0.01-256 either way
  }
  const [whole = '', decimals = ''] = text.split('.');
  if (decimals.length > 2 || whole.startsWith('-')) return broken;
  const hundredths = BigInt(whole) * 100n + BigInt(decimals.padEnd(2, '0') || '0');
  if (hundredths < 1n || hundredths > 25600n) return broken;
  return accept(Number(text));
}

/** A yes/no answer (redis, swarm, publicHealth, hstsPreload): a boolean in files; yeoman gives flags as booleans too. */
function boolean(raw: unknown): Outcome {
  return typeof raw === 'boolean' ? accept(raw) : reject(/must be true or false/);
}

const UNIT = { b: 1n, k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n } as const;
export const MEMORY_FLOOR: Record<(typeof MEMORY_SERVICES)[number], bigint> = {
  nginx: 16n * UNIT.m,
  backend: 128n * UNIT.m,
  postgres: 128n * UNIT.m,
  redis: 16n * UNIT.m,
};
const CEILING = 1024n * UNIT.g;

/** A size as the README writes it (whole number and unit, any case, kb/mb/gb too): bytes and the stored text. */
function size(raw: unknown): { bytes: bigint; text: string } | Outcome {
  if (typeof raw !== 'string') return reject(/must be a string: must be a whole number followed by a unit/);
  const format = reject(/must be a whole number followed by a unit b, k, m or g/);
  let digits = 0;
  while (digits < raw.length && isDigit(raw[digits]!)) digits += 1;
  const amount = raw.slice(0, digits);
  const unit = raw.slice(digits).toLowerCase();
  if (digits === 0 || amount.startsWith('0')) return format;
  if (!['b', 'k', 'kb', 'm', 'mb', 'g', 'gb'].includes(unit) || !/^[a-zA-Z]+$/.test(raw.slice(digits))) return format;
  const bytes = BigInt(amount) * UNIT[unit[0] as keyof typeof UNIT];
  if (bytes > CEILING) return reject(/is above the ceiling of 1024g/);
  return { bytes, text: `${amount}${unit[0]}` };
}

function memory(service: (typeof MEMORY_SERVICES)[number], raw: unknown): Outcome {
  const parsed = size(raw);
  if ('ok' in parsed) return parsed;
  if (parsed.bytes < MEMORY_FLOOR[service])
    return reject(new RegExp(`is below the \\d+m the ${service} service needs to start`));
  return accept(parsed.text);
}

/** The largest request body: a size from 1k (room for a form post). Whether it fits nginx's /tmp is a rule across answers (predict). */
function maxBodySize(raw: unknown): Outcome {
  const parsed = size(raw);
  if ('ok' in parsed) return parsed;
  if (parsed.bytes < UNIT.k) return reject(/is below 1k: nginx needs room for a form post/);
  return accept(parsed.text);
}

/** nginx's /tmp: a quarter of its memory in whole mebibytes, from 1m to 64m. */
function nginxScratch(memoryText: string): bigint {
  const parsed = size(memoryText) as { bytes: bigint };
  const mebibytes = parsed.bytes / 4n / UNIT.m;
  return (mebibytes < 1n ? 1n : mebibytes > 64n ? 64n : mebibytes) * UNIT.m;
}

function routePath(raw: string): { path: string } | { rule: RegExp } {
  if (!raw.startsWith('/')) return { rule: /must start with "\/"/ };
  if (raw.length > 200) return { rule: /must be at most 200 characters/ };
  if (!chars(raw).every((c) => isLower(c) || isUpper(c) || isDigit(c) || '._~/-'.includes(c)))
    return { rule: /may contain only A-Z a-z 0-9 \. _ ~ \/ -/ };
  if (raw.includes('//')) return { rule: /must not contain "\/\/"/ };
  const path = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
  if (path === '/') return { rule: /must name at least one path segment/ };
  if (path.split('/').some((segment) => segment === '.' || segment === '..'))
    return { rule: /must not contain a "\." or "\.\." segment/ };
  for (const reserved of ['/health', '/nginx-health']) {
    if (path === reserved || path.startsWith(`${reserved}/`)) return { rule: /collides with the built-in/ };
  }
  return { path };
}

function routes(raw: unknown, origin: Origin): Outcome {
  const list = origin === 'flag' && typeof raw === 'string' ? raw.split(',').filter((item) => item !== '') : raw;
  if (!Array.isArray(list)) return reject(/must be a list of routes/);
  if (list.length > 500) return reject(new RegExp(`must hold at most 500 routes \\(got ${list.length}\\)`));
  const seen = new Set<string>();
  const result: { path: string }[] = [];
  for (const [index, item] of list.entries()) {
    let path: unknown = item;
    if (typeof item !== 'string') {
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        return reject(new RegExp(`item ${index}: must be a string or an object`));
      const keys = Object.keys(item);
      if (keys.some((key) => key !== 'path')) return reject(new RegExp(`item ${index}: has unknown key`));
      path = (item as { path?: unknown }).path;
      if (typeof path !== 'string') return reject(new RegExp(`item ${index}: needs "path", a string`));
    }
    const normalised = routePath(path as string);
    if ('rule' in normalised) return reject(new RegExp(`item ${index} \\(.*\\) ${normalised.rule.source}`, 's'));
    const identity = normalised.path.toLowerCase();
    if (seen.has(identity)) return reject(new RegExp(`item ${index} \\(.*\\) duplicates`, 's'));
    seen.add(identity);
    result.push({ path: normalised.path });
  }
  return accept(result);
}

type Rule = (raw: unknown, origin: Origin) => Outcome;
const memoryOf =
  (service: (typeof MEMORY_SERVICES)[number]): Rule =>
  (raw) =>
    memory(service, raw);

/** The rule of every answer; a table typed by Key, so an answer without a rule does not compile. */
export const RULES: Record<Key, Rule> = {
  projectName,
  dbName: pgIdentifier,
  dbUser,
  serverName,
  httpPort: port,
  redis: boolean,
  restart,
  bindAddress,
  rateLimit,
  tls,
  tlsCert: tlsPath,
  tlsKey: tlsPath,
  httpsPort: port,
  hstsPreload: boolean,
  publicHealth: boolean,
  'memory.nginx': memoryOf('nginx'),
  'memory.backend': memoryOf('backend'),
  'memory.postgres': memoryOf('postgres'),
  'memory.redis': memoryOf('redis'),
  'cpus.nginx': cpus,
  'cpus.backend': cpus,
  'cpus.postgres': cpus,
  'cpus.redis': cpus,
  maxBodySize,
  routes,
  swarm: boolean,
  backendReplicas,
};

/** What the README says happens to one raw value of one field, given where it came from. */
export function expectedOutcome(key: Key, raw: unknown, origin: Origin): Outcome {
  return RULES[key](raw, origin);
}

export interface SourceSpec {
  name: string;
  origin: Origin;
  /** Flags: flat, keyed by answer key. Files: the parsed document, nested. */
  values: Record<string, unknown> | unknown;
}

export interface Prediction {
  /** Expected problems: field name and the rule's pattern. Empty when the set is accepted. */
  problems: { field: string; rule: RegExp }[];
  /** Serialised accepted values of the fields somebody supplied (only meaningful when accepted). */
  supplied: Partial<Record<Key, unknown>>;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Flattens a file document as the README describes it: nested memory, unknown keys reported. */
function flatten(document: unknown, problems: Prediction['problems']): Map<Key, unknown> {
  const values = new Map<Key, unknown>();
  if (document === null || document === undefined) return values;
  if (!isMapping(document)) {
    problems.push({ field: '(root)', rule: /must be a mapping of answer keys to values/ });
    return values;
  }
  for (const key of Object.keys(document)) {
    const value = document[key];
    if (key === 'memory' || key === 'cpus') {
      // Both nest one answer per service.
      if (!isMapping(value)) {
        problems.push({ field: key, rule: /must be a mapping/ });
        continue;
      }
      for (const sub of Object.keys(value)) {
        if ((MEMORY_SERVICES as readonly string[]).includes(sub)) values.set(`${key}.${sub}` as Key, value[sub]);
        else problems.push({ field: `${key}.${sub}`, rule: /is not a known answer/ });
      }
    } else if ((FIELD_KEYS as readonly string[]).includes(key) && !key.includes('.')) {
      values.set(key as Key, value);
    } else {
      problems.push({ field: key, rule: /is not a known answer/ });
    }
  }
  return values;
}

/** The README's precedence: the first source (flags, then --answers, then .yo-rc.json) holding a key wins. */
export function predict(sources: readonly SourceSpec[]): Prediction {
  const problems: Prediction['problems'] = [];
  const flattened = sources.map((source) => ({
    origin: source.origin,
    values:
      source.origin === 'flag'
        ? (new Map(Object.entries(source.values as Record<string, unknown>)) as Map<Key, unknown>)
        : flatten(source.values, problems),
  }));
  const supplied: Prediction['supplied'] = {};
  for (const key of FIELD_KEYS) {
    const source = flattened.find((s) => s.values.has(key));
    if (!source) continue;
    const outcome = expectedOutcome(key, source.values.get(key), source.origin);
    if (outcome.ok) supplied[key] = outcome.value;
    else problems.push({ field: key, rule: outcome.rule });
  }
  // Rules across answers apply once every answer is valid on its own, and are reported together.
  if (problems.length === 0) {
    // HTTPS (tls, httpPort, httpsPort and hstsPreload default to "off", 8080, 8443 and false; the files to null).
    const tlsMode = supplied.tls ?? 'off';
    if (tlsMode === 'provided') {
      for (const file of ['tlsCert', 'tlsKey'] as const)
        if ((supplied[file] ?? null) === null)
          problems.push({ field: file, rule: /is required when tls is "provided"/ });
    }
    if (tlsMode !== 'off' && (supplied.httpsPort ?? 8443) === (supplied.httpPort ?? 8080))
      problems.push({ field: 'httpsPort', rule: /must differ from httpPort/ });
    if (supplied.hstsPreload === true && tlsMode !== 'provided')
      problems.push({ field: 'hstsPreload', rule: /needs tls "provided"/ });
    // A Swarm port has no host address: with swarm, only "*" (swarm and bindAddress default to false and "*").
    if (supplied.swarm === true && supplied.bindAddress !== undefined && supplied.bindAddress !== '*') {
      problems.push({
        field: 'bindAddress',
        rule: /must be "\*" with swarm: Swarm publishes a port on every address of its node/,
      });
    }
    // nginx buffers a large body in its /tmp, so the largest must fit there (memory.nginx defaults to 50m).
    if (supplied.maxBodySize !== undefined) {
      const body = (size(supplied.maxBodySize) as { bytes: bigint }).bytes;
      if (body > nginxScratch((supplied['memory.nginx'] as string | undefined) ?? '50m'))
        problems.push({
          field: 'maxBodySize',
          rule: /must fit nginx's \/tmp, \d+m \(a quarter of memory\.nginx .*, at most 64m\)/,
        });
    }
  }
  return { problems, supplied };
}

/** Reads a dotted key out of a nested (serialised) answers object. */
export function valueAt(stored: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (isMapping(node) ? node[part] : undefined), stored);
}
