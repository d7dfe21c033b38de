/**
 * A byte-for-byte picture of a directory tree: every entry's path, type, mode and modification
 * time, each file's content and each symlink's target. Two equal snapshots mean nothing was
 * created, deleted, rewritten or re-permissioned in between.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export type Snapshot = Record<string, string>;

/** `times: false` leaves modification times out, to compare two trees written at different moments. */
export function snapshot(root: string, { times = true }: { times?: boolean } = {}): Snapshot {
  const entries: Snapshot = {};
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    const key = relative(root, path) || '.';
    const head = times ? `mode=${stat.mode.toString(8)} mtime=${stat.mtimeMs}` : `mode=${stat.mode.toString(8)}`;
    if (stat.isDirectory()) {
      entries[key] = `dir ${head}`;
      for (const name of readdirSync(path).sort()) walk(join(path, name));
    } else if (stat.isSymbolicLink()) {
      entries[key] = `symlink ${head} -> ${readlinkSync(path)}`;
    } else {
      entries[key] = `file ${head} ${readFileSync(path).toString('base64')}`;
    }
  };
  walk(root);
  return entries;
}

/**
 * A destination that is not empty: a user's own files, an older compose.yaml, secrets with their
 * modes, an executable, an empty directory and a symlink. Returns [parent, destination].
 */
export function populatedDestination(storedAnswers?: Record<string, unknown>): { parent: string; directory: string } {
  const parent = mkdtempSync(join(tmpdir(), 'secure-stack-hostile-'));
  const directory = join(parent, 'stack');
  mkdirSync(directory);
  writeFileSync(join(directory, 'README.md'), '# mine\n');
  writeFileSync(join(directory, 'compose.yaml'), 'name: older\nservices: {}\n');
  mkdirSync(join(directory, 'secrets'), { mode: 0o700 });
  writeFileSync(join(directory, 'secrets/db_password.txt'), 'kept-secret\n', { mode: 0o400 });
  writeFileSync(join(directory, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  mkdirSync(join(directory, 'empty'));
  symlinkSync('README.md', join(directory, 'link'));
  chmodSync(join(directory, 'secrets'), 0o700);
  if (storedAnswers) {
    writeFileSync(
      join(directory, '.yo-rc.json'),
      `${JSON.stringify({ 'generator-secure-stack': storedAnswers }, null, 2)}\n`,
    );
  }
  return { parent, directory };
}
