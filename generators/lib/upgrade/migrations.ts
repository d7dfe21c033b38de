/**
 * Versioned migrations: moves a newer version makes to where a generated file lives. Before
 * merging, a repository last rendered by an older version has each moved file (and its base
 * copy) renamed, so the user's edits merge into the file at its new path.
 */
export interface Migration {
  /** The first generator version that renders the file at `to`. */
  version: string;
  moves: { from: string; to: string }[];
}

export const MIGRATIONS: readonly Migration[] = [];

/** Compares dotted numeric versions (1.10.0 > 1.9.2); pre-release tags are not used here. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  const pb = b.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const difference = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** The moves to apply to a repository last rendered by `fromVersion`, oldest first. */
export function movesSince(
  fromVersion: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: string; to: string }[] {
  return [...migrations]
    .filter((migration) => compareVersions(migration.version, fromVersion) > 0)
    .sort((a, b) => compareVersions(a.version, b.version))
    .flatMap((migration) => migration.moves);
}
