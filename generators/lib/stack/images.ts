/**
 * Images the stack pins. Tags name an exact release on Debian bookworm, never `latest`, so a
 * rebuild months later runs the same servers. The end-to-end tests build local stand-ins under
 * these same names (test/e2e/engine), so changing a tag here means changing the recipe there.
 */
export const IMAGES = {
  nginx: 'nginx:1.28.0-bookworm',
  // postgres 18 moved its data to /var/lib/postgresql/<major>; 17 keeps /var/lib/postgresql/data.
  postgres: 'postgres:17.5-bookworm',
  redis: 'redis:7.4.5-bookworm',
  python: 'python:3.11.13-slim-bookworm',
} as const;

/** Where each pinned image keeps its data, for the named volumes. */
export const DATA_DIRECTORIES = {
  postgres: '/var/lib/postgresql/data',
  redis: '/data',
} as const;
