/**
 * Images the stack pins. Tags name an exact release, never `latest`, so a rebuild months later
 * runs the same servers; each is the newest patch release found on 30 Nov 2026 (issue #16's
 * review found the earlier pins stale), with the security fixes it brings over the one before:
 * - nginx 1.30.5 on Debian trixie: the 1.28 line ended at 1.28.3 and nginx publishes no bookworm
 *   images after 1.28.0; 1.28.2-1.30.4 fixed CVE-2026-1642, CVE-2026-27654/27651/27784 and more.
 * - PostgreSQL 17.11: 17.6-17.11 fixed CVE-2025-8713/8714/8715, CVE-2025-12817/12818,
 *   CVE-2026-2003..2006, CVE-2026-6472..6479 and CVE-2026-14669 (to_char heap overflow).
 * - Redis 7.4.11: 7.4.6 fixed CVE-2025-49844 (Lua use-after-free, code execution through EVAL)
 *   and CVE-2025-46817/46818/46819; 7.4.8-7.4.11 more.
 * - Python 3.11.16.
 * The generated repository's renovate.json keeps them current there and pins their digests.
 * The end-to-end tests build local stand-ins under these same names (test/e2e/engine), so
 * changing a tag here means changing the recipe there.
 */
export const IMAGES = {
  nginx: 'nginx:1.30.5-trixie',
  // postgres 18 moved its data to /var/lib/postgresql/<major>; 17 keeps /var/lib/postgresql/data.
  postgres: 'postgres:17.11-bookworm',
  redis: 'redis:7.4.11-bookworm',
  python: 'python:3.11.16-slim-bookworm',
} as const;

/** Where each pinned image keeps its data, for the named volumes. */
export const DATA_DIRECTORIES = {
  postgres: '/var/lib/postgresql/data',
  redis: '/data',
} as const;
