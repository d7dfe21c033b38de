/**
 * Images the stack pins, by tag and digest. The tag names an exact release, never `latest`, and
 * says to a reader what runs; the digest (of the multi-platform index, so every architecture
 * resolves) is what the engine runs: a tag can be re-pushed, a digest cannot. Each is the newest
 * patch release found on 30 Nov 2026 (issue #16's review found the earlier pins stale), with the
 * security fixes it brings over the one before:
 * - nginx 1.30.5 on Debian trixie: the 1.28 line ended at 1.28.3 and nginx publishes no bookworm
 *   images after 1.28.0; 1.28.2-1.30.4 fixed CVE-2026-1642, CVE-2026-27654/27651/27784 and more.
 * - PostgreSQL 17.11: 17.6-17.11 fixed CVE-2025-8713/8714/8715, CVE-2025-12817/12818,
 *   CVE-2026-2003..2006, CVE-2026-6472..6479 and CVE-2026-14669 (to_char heap overflow).
 * - Redis 7.4.11: 7.4.6 fixed CVE-2025-49844 (Lua use-after-free, code execution through EVAL)
 *   and CVE-2025-46817/46818/46819; 7.4.8-7.4.11 more.
 * - Python 3.11.16.
 * Digests are the index digests Docker Official Images publish for these tags
 * (github.com/docker-library/repo-info, repos/<name>/remote/<tag>.md). The generated repository's
 * renovate.json moves tag and digest together from then on.
 * The end-to-end tests build local stand-ins under these same names and give them these digests
 * (test/e2e/engine), so changing a pin here means changing the recipe there.
 */
export interface PinnedImage {
  /** The repository on Docker Hub ("nginx" is docker.io/library/nginx). */
  readonly repository: string;
  readonly tag: string;
  readonly digest: `sha256:${string}`;
}

export const PINNED_IMAGES = {
  nginx: {
    repository: 'nginx',
    tag: '1.30.5-trixie',
    digest: 'sha256:e9f347c65f318767714e8b0eccfd6b558d00fb92630791fb6cd901fcdf7f6fdd',
  },
  // postgres 18 moved its data to /var/lib/postgresql/<major>; 17 keeps /var/lib/postgresql/data.
  postgres: {
    repository: 'postgres',
    tag: '17.11-bookworm',
    digest: 'sha256:639ab7ceb90e13123085b741fb31ef493fba25463002f6da665352e7b534b652',
  },
  redis: {
    repository: 'redis',
    tag: '7.4.11-bookworm',
    digest: 'sha256:c6eabf748fc7a61dbb5a705c78bcf3d6377b1127a97d0ce965c11c44ba46896f',
  },
  python: {
    repository: 'python',
    tag: '3.11.16-slim-bookworm',
    digest: 'sha256:c425d915a89a6dcd3183b1797ad9bd8878caff5a417f6371c8df93c8ea8b727f',
  },
} as const satisfies Record<string, PinnedImage>;

/** `name:tag@sha256:...`: Docker and Compose run the digest; the tag stays for people and Renovate. */
export function imageReference(image: PinnedImage): string {
  return `${image.repository}:${image.tag}@${image.digest}`;
}

/** The references compose.yaml, stack.yaml and the Dockerfile's FROM carry. */
export const IMAGES = {
  nginx: imageReference(PINNED_IMAGES.nginx),
  postgres: imageReference(PINNED_IMAGES.postgres),
  redis: imageReference(PINNED_IMAGES.redis),
  python: imageReference(PINNED_IMAGES.python),
} as const;

/** Where each pinned image keeps its data, for the named volumes. */
export const DATA_DIRECTORIES = {
  postgres: '/var/lib/postgresql/data',
  redis: '/data',
} as const;
