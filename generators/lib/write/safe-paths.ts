/**
 * Keeps every write inside the destination. A path is refused when it is absolute, climbs out
 * with "..", or passes through a symbolic link (a `nginx` link to /etc would otherwise turn
 * nginx/nginx.conf into /etc/nginx.conf).
 */
import { lstatSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { ExitCode, UserError } from '../errors.js';

export function resolveInside(root: string, path: string): string {
  const normalised = normalize(path);
  if (isAbsolute(path) || normalised === '..' || normalised.startsWith(`..${sep}`)) {
    throw new UserError(
      `Refusing to write ${JSON.stringify(path)}: it is outside the destination ${root}.`,
      ExitCode.usage,
    );
  }
  return join(root, normalised);
}

/** Throws when `path`, or any directory on the way to it, is a symbolic link. */
export function assertNoSymlink(root: string, path: string): void {
  const parts = normalize(path).split(sep);
  for (let i = 1; i <= parts.length; i += 1) {
    const partial = parts.slice(0, i).join(sep);
    let isLink = false;
    try {
      isLink = lstatSync(join(root, partial)).isSymbolicLink();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (isLink) {
      throw new UserError(
        `Refusing to write ${path}: ${partial} is a symbolic link, and writing through it could change files outside ${root}. Replace the link with a real ${i < parts.length ? 'directory' : 'file'} and re-run; nothing was written.`,
        ExitCode.usage,
      );
    }
  }
}
