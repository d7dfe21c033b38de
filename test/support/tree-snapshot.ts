/** A byte-for-byte picture of a directory tree: content, mode and mtime of every entry. */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

export type TreeSnapshot = Record<string, { content: string; mode: number; mtimeMs: number }>;

export function snapshotTree(root: string, { withTimes = true } = {}): TreeSnapshot {
  const snapshot: TreeSnapshot = {};
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      const stat = lstatSync(path);
      const key = relative(root, path);
      const content = entry.isFile() ? readFileSync(path, 'base64') : entry.isSymbolicLink() ? `-> ${readlinkSync(path)}` : '<dir>';
      snapshot[key] = { content, mode: stat.mode, mtimeMs: withTimes && !entry.isDirectory() ? stat.mtimeMs : 0 };
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return snapshot;
}
