/**
 * The stack's Redis users, written to the ACL file redis-server loads (--aclfile). Each holds only
 * the SHA-256 of its password, so the passwords never reach argv, the environment or compose.yaml.
 *
 * - default: off. A client that does not log in as a named user can do nothing.
 * - backend: what a Django cache and session store use (keys, strings, hashes, lists, sets,
 *   expiry, MULTI/EXEC, FLUSHDB for cache.clear()), nothing else @dangerous (FLUSHALL, KEYS,
 *   CONFIG, DEBUG, MIGRATE...), @admin
 *   (ACL, REPLICAOF, MODULE, SHUTDOWN...) or @scripting (EVAL, FUNCTION: CVE-2025-49844 was a
 *   use-after-free in the Lua engine reachable through EVAL), and no pub/sub channels.
 * - healthcheck: PING, for the container's healthcheck, and nothing else.
 */
import { createHash } from 'node:crypto';

export const REDIS_BACKEND_USER = 'backend';
export const REDIS_HEALTHCHECK_USER = 'healthcheck';

/** Rules are applied left to right: everything off, the needed categories on, the risky ones off again. */
// FLUSHDB (@dangerous) comes back for Django's cache.clear(): over keys ~* it removes nothing DEL could not.
export const REDIS_BACKEND_RULES =
  '~* resetchannels -@all +@connection +@read +@write +@keyspace +@transaction -@dangerous -@admin -@scripting +flushdb';
export const REDIS_HEALTHCHECK_RULES = 'resetkeys resetchannels -@all +ping';

const sha256 = (password: string) => createHash('sha256').update(password).digest('hex');

export function redisAcl(backendPassword: string, healthcheckPassword: string): string {
  return [
    'user default off resetpass resetkeys resetchannels -@all',
    `user ${REDIS_BACKEND_USER} on #${sha256(backendPassword)} ${REDIS_BACKEND_RULES}`,
    `user ${REDIS_HEALTHCHECK_USER} on #${sha256(healthcheckPassword)} ${REDIS_HEALTHCHECK_RULES}`,
    '',
  ].join('\n');
}

/** What versions up to 0.2.0 wrote: one user, default, allowed everything. Upgrades replace it. */
export function legacyRedisAcl(password: string): string {
  return `user default on #${sha256(password)} ~* &* +@all\n`;
}
