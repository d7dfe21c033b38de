/**
 * Parsers of single answers: each takes a raw value from a flag or a file and returns the typed
 * value or the rule it breaks. Rules that join two answers are in cross-field.ts.
 */
import { isIP } from 'node:net';
import { describeValue } from '../errors.js';
import type { Origin, Parsed } from './field.js';
import { MAX_ROUTES, normaliseRoutePath, type Route } from './routes.js';
import { ALL_INTERFACES } from './types.js';

export const ok = <V>(value: V): Parsed<V> => ({ ok: true, value });
export const broken = <V>(rule: string): Parsed<V> => ({ ok: false, rule });

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
  const parsed = parseText(
    raw,
    PROJECT_NAME,
    63,
    'must match ^[a-z0-9][a-z0-9_-]*$ (lower-case letters, digits, "_" and "-")',
  );
  if (parsed.ok && !IMAGE_SAFE_PROJECT_NAME.test(parsed.value)) {
    return broken(
      'must not end with "_" nor put "_" next to "-" or three "_" in a row: it names the backend image "<projectName>-backend"',
    );
  }
  return parsed;
}

export function parsePgIdentifier(raw: unknown): Parsed<string> {
  // Identifiers are ASCII by this pattern, so 63 characters are 63 bytes (PostgreSQL's NAMEDATALEN - 1).
  return parseText(raw, PG_IDENTIFIER, 63, 'must be a PostgreSQL identifier: ^[A-Za-z_][A-Za-z0-9_]*$');
}

export function parseHostName(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return broken('must be a string');
  // ASCII before lower-casing: "\u212A" (KELVIN SIGN) lower-cases to "k", so a look-alike host
  // name would otherwise be accepted and silently stored as another name.
  const name = /^[A-Za-z0-9.-]*$/.test(raw) ? raw.toLowerCase() : '';
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((label) => HOST_LABEL.test(label))) {
    return broken(
      'must be an RFC 1123 host name: dot-separated labels of a-z, 0-9 and "-", each 1-63 characters, not starting or ending with "-"',
    );
  }
  return ok(name);
}

/** An integer from min to max: a number in files, digits on the command line. */
export function integerBetween(min: number, max: number): (raw: unknown, origin: Origin) => Parsed<number> {
  return (raw, origin) => {
    const value = origin === 'flag' && typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      return broken(`must be an integer from ${min} to ${max}`);
    return ok(value);
  };
}

export const parsePort = integerBetween(1, 65535);
export const parseRate = integerBetween(1, 100_000);
/** More replicas than this is a bigger deployment than one stack file on a small swarm is meant for. */
export const MAX_BACKEND_REPLICAS = 32;
export const parseReplicas = integerBetween(1, MAX_BACKEND_REPLICAS);

export function parseBoolean(raw: unknown): Parsed<boolean> {
  return typeof raw === 'boolean' ? ok(raw) : broken('must be true or false');
}

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
      return broken(
        `item ${index} (${describeValue(path)}) duplicates ${describeValue(earlier)}: routes must be unique after normalisation (trailing "/" removed, case ignored)`,
      );
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
  if (extra.length > 0)
    return { rule: `has unknown key ${describeValue(extra[0])} (a route object holds only "path")` };
  const path = (item as { path?: unknown }).path;
  return typeof path === 'string' ? path : { rule: 'needs "path", a string' };
}

export function parseChoice<T extends string>(choices: readonly T[]): (raw: unknown) => Parsed<T> {
  return (raw) =>
    typeof raw === 'string' && (choices as readonly string[]).includes(raw)
      ? ok(raw as T)
      : broken(`must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
}

const IPV4 = /^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

export function parseBindAddress(raw: unknown): Parsed<string> {
  if (raw === ALL_INTERFACES) return ok(raw);
  if (typeof raw !== 'string') return broken('must be a string');
  if (IPV4.test(raw)) return ok(raw);
  // IPv6: hex groups and colons only (no zone id, which Compose port syntax cannot carry).
  if (/^[0-9A-Fa-f:.]{2,45}$/.test(raw) && isIP(raw) === 6) return ok(raw.toLowerCase());
  return broken(`must be "${ALL_INTERFACES}" (all interfaces) or an IPv4 or IPv6 address such as "127.0.0.1" or "::1"`);
}

const TLS_PATH = /^\/?(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** A certificate or key path: relative to the repository or absolute, plain characters, no "..". */
export function parseTlsPath(raw: unknown): Parsed<string | null> {
  if (raw === null) return ok(null);
  if (typeof raw !== 'string') return broken('must be a file path (a string) or null');
  if (
    raw.length > 255 ||
    !TLS_PATH.test(raw) ||
    raw.split('/').some((segment) => segment === '..' || segment === '.')
  ) {
    return broken(
      'must be a file path of A-Z a-z 0-9 . _ - and "/", relative to the repository or absolute, without "." or ".." segments',
    );
  }
  return ok(raw);
}

export function parseDbUser(raw: unknown): Parsed<string> {
  const parsed = parsePgIdentifier(raw);
  if (parsed.ok && parsed.value.toLowerCase().startsWith('pg_'))
    return broken('must not start with "pg_" (reserved by PostgreSQL)');
  // The database's owner role, a superuser: the backend's role must be another.
  if (parsed.ok && parsed.value === 'db_owner')
    return broken('must not be "db_owner", the database\'s owner role, which the backend never uses');
  return parsed;
}
