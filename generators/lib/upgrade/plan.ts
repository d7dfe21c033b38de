/**
 * Plans a (re-)run: what happens to each file, given the new render, the files on disk and the
 * state of the last run. Pure: it reads through a callback and returns file operations, so the
 * generator, --check and --dry-run share it and tests can drive it without a disk.
 *
 * Rules (generator-owned files):
 *   missing on disk, generated before  → stays deleted (the user deleted it)
 *   missing on disk, new               → created
 *   on disk, equal to the new render   → untouched
 *   on disk, unchanged since last run  → replaced by the new render
 *   edited, template unchanged         → the user's edit is kept as is
 *   edited, template changed           → three-way merge; conflicting hunks get markers
 *   no longer rendered                 → removed if the user never changed it, else kept and reported
 * User-owned files are written once, when missing and never written before, then never touched.
 */
import type { Owner, RenderedFile } from '../render.js';
import { hasConflictMarkers, mergeThreeWay } from './merge.js';
import { movesSince, type Migration, MIGRATIONS } from './migrations.js';
import { basePath, parseState, serialiseState, STATE_FILE, type GeneratorState } from './state.js';

export type ActionKind =
  | 'create'
  | 'update'
  | 'merge'
  | 'conflict'
  | 'keep-edit'
  | 'unchanged'
  | 'deleted-by-user'
  | 'delete'
  | 'orphan-kept'
  | 'user-owned'
  | 'move';

export interface Action {
  kind: ActionKind;
  path: string;
  /** For 'move': where the file was. */
  from?: string;
  conflicts?: number;
}

export type FileOperation = { op: 'write'; path: string; content: string } | { op: 'delete'; path: string };

export interface UpgradePlan {
  actions: Action[];
  /** Every change to the disk the run makes, including .secure-stack/ bookkeeping. */
  operations: FileOperation[];
  conflicted: string[];
}

export interface PlanInput {
  rendered: readonly RenderedFile[];
  /** Reads a file of the destination; undefined when it does not exist. */
  read: (path: string) => string | undefined;
  generatorVersion: string;
  migrations?: readonly Migration[];
}

export function planRun({ rendered, read, generatorVersion, migrations = MIGRATIONS }: PlanInput): UpgradePlan {
  const disk = new Overlay(read);
  const previous = parseState(disk.read(STATE_FILE));
  const actions: Action[] = [];
  const conflicted: string[] = [];
  const files: Record<string, Owner> = { ...(previous?.files ?? {}) };

  if (previous) {
    for (const move of movesSince(previous.generatorVersion, migrations)) {
      const content = disk.read(move.from);
      if (content === undefined || disk.read(move.to) !== undefined) continue;
      disk.write(move.to, content);
      disk.remove(move.from);
      const base = disk.read(basePath(move.from));
      if (base !== undefined) {
        disk.write(basePath(move.to), base);
        disk.remove(basePath(move.from));
      }
      const owner = files[move.from];
      delete files[move.from];
      if (owner) files[move.to] = owner;
      actions.push({ kind: 'move', path: move.to, from: move.from });
    }
  }

  const theirsLabel = `new template (generator-secure-stack ${generatorVersion})`;
  for (const file of rendered) {
    const ours = disk.read(file.path);
    if (file.owner === 'user') {
      if (ours === undefined && files[file.path] === undefined) {
        disk.write(file.path, file.content);
        actions.push({ kind: 'create', path: file.path });
      } else {
        actions.push({ kind: 'user-owned', path: file.path });
      }
      files[file.path] = 'user';
      continue;
    }
    const base = files[file.path] === 'generator' ? disk.read(basePath(file.path)) : undefined;
    const action = generatedFileAction(file, ours, base, theirsLabel, disk);
    actions.push(action);
    if (action.kind === 'conflict' || (ours !== undefined && action.kind === 'keep-edit' && hasConflictMarkers(ours)))
      conflicted.push(file.path);
    files[file.path] = 'generator';
    disk.write(basePath(file.path), file.content);
  }

  const renderedPaths = new Set(rendered.map((file) => file.path));
  for (const [path, owner] of Object.entries(files)) {
    if (renderedPaths.has(path)) continue;
    delete files[path];
    if (owner === 'user') continue;
    const ours = disk.read(path);
    const base = disk.read(basePath(path));
    disk.remove(basePath(path));
    if (ours === undefined) continue;
    if (ours === base) {
      disk.remove(path);
      actions.push({ kind: 'delete', path });
    } else {
      actions.push({ kind: 'orphan-kept', path });
    }
  }

  disk.write(STATE_FILE, serialiseState({ generatorVersion, files } satisfies GeneratorState));
  return { actions, operations: disk.operations(), conflicted };
}

function generatedFileAction(
  file: RenderedFile,
  ours: string | undefined,
  base: string | undefined,
  theirsLabel: string,
  disk: Overlay,
): Action {
  const theirs = file.content;
  const path = file.path;
  if (ours === undefined) {
    if (base !== undefined) return { kind: 'deleted-by-user', path };
    disk.write(path, theirs);
    return { kind: 'create', path };
  }
  if (ours === theirs) return { kind: 'unchanged', path };
  if (base !== undefined && ours === base) {
    disk.write(path, theirs);
    return { kind: 'update', path };
  }
  if (base !== undefined && theirs === base) return { kind: 'keep-edit', path };
  // No base: a file the generator did not write is in the way. Merging against an empty base
  // turns every difference into a conflict for the user to settle, instead of overwriting it.
  const merged = mergeThreeWay(base ?? '', ours, theirs, theirsLabel);
  disk.write(path, merged.text);
  return merged.conflicts > 0 ? { kind: 'conflict', path, conflicts: merged.conflicts } : { kind: 'merge', path };
}

/** The destination as the run will leave it: reads see planned writes; only real changes are kept. */
class Overlay {
  readonly #changes = new Map<string, string | undefined>();
  readonly #read: (path: string) => string | undefined;

  constructor(read: (path: string) => string | undefined) {
    this.#read = read;
  }

  read(path: string): string | undefined {
    return this.#changes.has(path) ? this.#changes.get(path) : this.#read(path);
  }

  write(path: string, content: string): void {
    this.#changes.set(path, content);
  }

  remove(path: string): void {
    this.#changes.set(path, undefined);
  }

  operations(): FileOperation[] {
    const operations: FileOperation[] = [];
    for (const [path, content] of this.#changes) {
      const current = this.#read(path);
      if (content === current) continue;
      operations.push(content === undefined ? { op: 'delete', path } : { op: 'write', path, content });
    }
    return operations;
  }
}
