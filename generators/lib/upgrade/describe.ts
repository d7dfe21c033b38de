/** One line per thing a run does (or would do), for the run's output and --dry-run. */
import type { Action, FileOperation } from './plan.js';

const WORDS: Record<Action['kind'], string | undefined> = {
  create: 'create',
  update: 'update',
  merge: 'merge (your edits kept)',
  conflict: 'CONFLICT',
  'keep-edit': undefined,
  unchanged: undefined,
  'deleted-by-user': 'stays deleted',
  delete: 'remove (no longer generated)',
  'orphan-kept': 'kept (no longer generated, but you changed it)',
  'user-owned': undefined,
  move: 'move',
};

export function describePlan(actions: readonly Action[], operations: readonly FileOperation[]): string[] {
  const lines = actions.flatMap((action) => {
    const word = WORDS[action.kind];
    if (!word) return [];
    const detail = action.kind === 'move' ? `${action.from} -> ${action.path}` : action.path;
    const hunks = action.conflicts === 1 ? 'hunk' : 'hunks';
    const conflicts = action.conflicts ? ` (${action.conflicts} conflicting ${hunks})` : '';
    return [`  ${word.padEnd(14)} ${detail}${conflicts}`];
  });
  const bookkeeping = operations.filter((operation) => !actions.some((action) => action.path === operation.path));
  for (const operation of bookkeeping) lines.push(`  ${operation.op.padEnd(14)} ${operation.path}`);
  return lines;
}
