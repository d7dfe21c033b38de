/**
 * Proxy routes: URL path prefixes that nginx forwards to the backend.
 * A route `/api` serves `/api` and `/api/...`, never `/apiary`.
 */
export interface Route {
  /** Normalised path: leading `/`, no trailing `/`. */
  readonly path: string;
}

export const MAX_ROUTES = 500;
export const MAX_ROUTE_LENGTH = 200;
/** Paths the stack itself answers; a route may not shadow them. */
export const RESERVED_PATHS = ['/health', '/nginx-health'] as const;

const ROUTE_CHARS = /^\/[A-Za-z0-9._~/-]*$/;

/** Returns the normalised route, or the rule the raw path breaks. */
export function normaliseRoutePath(raw: string): { path: string } | { rule: string } {
  if (!raw.startsWith('/')) return { rule: 'must start with "/"' };
  if (raw.length > MAX_ROUTE_LENGTH) return { rule: `must be at most ${MAX_ROUTE_LENGTH} characters` };
  if (!ROUTE_CHARS.test(raw)) return { rule: 'may contain only A-Z a-z 0-9 . _ ~ / -' };
  if (raw.includes('//')) return { rule: 'must not contain "//"' };
  const path = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
  if (path === '/') return { rule: 'must name at least one path segment ("/" alone would proxy everything)' };
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return { rule: 'must not contain a "." or ".." segment' };
  }
  const reserved = RESERVED_PATHS.find((r) => path === r || path.startsWith(`${r}/`));
  if (reserved) return { rule: `collides with the built-in ${reserved}/ endpoint` };
  return { path };
}
