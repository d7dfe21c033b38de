/**
 * Three-way merge of a generated file: base = what the generator last wrote, ours = the file on
 * disk (with the user's edits), theirs = the new render. Hunks changed on one side only merge
 * cleanly; hunks changed differently on both sides become git-style conflict markers.
 */
import { createRequire } from 'node:module';
import type * as Diff3 from 'node-diff3';

// Required on first use, synchronously: most runs merge nothing and need not load it.
let diff3: typeof Diff3 | undefined;
const loadDiff3 = () => (diff3 ??= createRequire(import.meta.url)('node-diff3') as typeof Diff3);

export interface MergeOutcome {
  text: string;
  conflicts: number;
}

export const CONFLICT_LABELS = { ours: 'yours (on disk)', theirs: 'new template' } as const;

/** Lines with their line endings, so the merged text keeps the files' exact bytes. */
function lines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

function withNewline(block: string[]): string[] {
  const last = block[block.length - 1];
  return last !== undefined && !last.endsWith('\n') ? [...block.slice(0, -1), `${last}\n`] : block;
}

export function mergeThreeWay(
  base: string,
  ours: string,
  theirs: string,
  theirsLabel: string = CONFLICT_LABELS.theirs,
): MergeOutcome {
  const regions = loadDiff3().diff3Merge(lines(ours), lines(base), lines(theirs), { excludeFalseConflicts: true });
  const output: string[] = [];
  let conflicts = 0;
  for (const region of regions) {
    if (region.ok) {
      output.push(...region.ok);
    } else if (region.conflict) {
      conflicts += 1;
      output.push(
        `<<<<<<< ${CONFLICT_LABELS.ours}\n`,
        ...withNewline(region.conflict.a),
        '=======\n',
        ...withNewline(region.conflict.b),
        `>>>>>>> ${theirsLabel}\n`,
      );
    }
  }
  return { text: output.join(''), conflicts };
}

/** True when the text still holds an unresolved conflict block written by mergeThreeWay. */
export function hasConflictMarkers(text: string): boolean {
  return /^<<<<<<< .*\n[\s\S]*?^=======\n[\s\S]*?^>>>>>>> /m.test(text);
}
