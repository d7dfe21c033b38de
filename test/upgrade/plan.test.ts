/** The upgrade planner and the merge, driven without a disk. */
import { describe, expect, it } from 'vitest';
import type { RenderedFile } from '../../generators/lib/render.js';
import { hasConflictMarkers, mergeThreeWay } from '../../generators/lib/upgrade/merge.js';
import { compareVersions, movesSince } from '../../generators/lib/upgrade/migrations.js';
import { planRun, type FileOperation } from '../../generators/lib/upgrade/plan.js';
import { basePath, serialiseState, STATE_FILE } from '../../generators/lib/upgrade/state.js';

const generated = (path: string, content: string): RenderedFile => ({ path, content, owner: 'generator' });

/** A disk after a previous run of `version` that wrote `files` (base = content as written). */
function diskAfterRun(
  version: string,
  files: Record<string, string>,
  owners: Record<string, 'generator' | 'user'> = {},
): Map<string, string> {
  const disk = new Map<string, string>();
  for (const [path, content] of Object.entries(files)) {
    disk.set(path, content);
    if ((owners[path] ?? 'generator') === 'generator') disk.set(basePath(path), content);
  }
  disk.set(
    STATE_FILE,
    serialiseState({
      generatorVersion: version,
      files: Object.fromEntries(Object.keys(files).map((p) => [p, owners[p] ?? 'generator'])),
    }),
  );
  return disk;
}

const apply = (disk: Map<string, string>, operations: FileOperation[]) => {
  for (const operation of operations) {
    if (operation.op === 'write') disk.set(operation.path, operation.content);
    else disk.delete(operation.path);
  }
};

describe('planRun', () => {
  it('removes a file the templates dropped when the user never changed it, keeps and reports it otherwise', () => {
    const disk = diskAfterRun('1.0.0', { 'a.txt': 'a\n', 'old-same.txt': 'x\n', 'old-edited.txt': 'y\n' });
    disk.set('old-edited.txt', 'y, edited\n');
    const plan = planRun({
      rendered: [generated('a.txt', 'a\n')],
      read: (p) => disk.get(p),
      generatorVersion: '1.1.0',
    });
    expect(plan.actions).toContainEqual({ kind: 'delete', path: 'old-same.txt' });
    expect(plan.actions).toContainEqual({ kind: 'orphan-kept', path: 'old-edited.txt' });
    apply(disk, plan.operations);
    expect(disk.has('old-same.txt')).toBe(false);
    expect(disk.get('old-edited.txt')).toBe('y, edited\n');
    expect(disk.has(basePath('old-same.txt'))).toBe(false);
    expect(JSON.parse(disk.get(STATE_FILE)!).files).toEqual({ 'a.txt': 'generator' });
  });

  it('moves a file by a versioned migration and merges the user edit at its new path', () => {
    const disk = diskAfterRun('1.0.0', { 'nginx.conf': 'one\ntwo\nthree\n' });
    disk.set('nginx.conf', 'one\ntwo (mine)\nthree\n');
    const migrations = [{ version: '1.1.0', moves: [{ from: 'nginx.conf', to: 'nginx/nginx.conf' }] }];
    const plan = planRun({
      rendered: [generated('nginx/nginx.conf', 'one\ntwo\nthree\nfour\n')],
      read: (p) => disk.get(p),
      generatorVersion: '1.1.0',
      migrations,
    });
    expect(plan.actions.map((a) => a.kind)).toEqual(['move', 'merge']);
    apply(disk, plan.operations);
    expect(disk.get('nginx/nginx.conf')).toBe('one\ntwo (mine)\nthree\nfour\n');
    expect(disk.has('nginx.conf')).toBe(false);
    expect(disk.get(basePath('nginx/nginx.conf'))).toBe('one\ntwo\nthree\nfour\n');
  });

  it('does not apply a migration to a repository already past it', () => {
    const disk = diskAfterRun('1.1.0', { 'nginx.conf': 'kept\n' });
    const migrations = [{ version: '1.1.0', moves: [{ from: 'nginx.conf', to: 'nginx/nginx.conf' }] }];
    const plan = planRun({
      rendered: [generated('nginx.conf', 'kept\n')],
      read: (p) => disk.get(p),
      generatorVersion: '1.2.0',
      migrations,
    });
    expect(plan.actions).toEqual([{ kind: 'unchanged', path: 'nginx.conf' }]);
  });

  it('never writes over a file it did not generate: a first run beside an existing file conflicts', () => {
    const disk = new Map([['README.md', 'my notes\n']]);
    const plan = planRun({
      rendered: [generated('README.md', 'generated\n')],
      read: (p) => disk.get(p),
      generatorVersion: '1.0.0',
    });
    expect(plan.conflicted).toEqual(['README.md']);
    apply(disk, plan.operations);
    expect(disk.get('README.md')).toContain('my notes\n');
    expect(hasConflictMarkers(disk.get('README.md')!)).toBe(true);
  });

  it('writes a user-owned file once, never again, even after it was deleted', () => {
    const rendered: RenderedFile[] = [{ path: 'views.py', content: 'stub\n', owner: 'user' }];
    const disk = new Map<string, string>();
    apply(disk, planRun({ rendered, read: (p) => disk.get(p), generatorVersion: '1.0.0' }).operations);
    expect(disk.get('views.py')).toBe('stub\n');
    disk.set('views.py', 'mine\n');
    expect(
      planRun({
        rendered: [{ ...rendered[0]!, content: 'new stub\n' }],
        read: (p) => disk.get(p),
        generatorVersion: '1.1.0',
      }).operations.filter((o) => o.path === 'views.py'),
    ).toEqual([]);
    disk.delete('views.py');
    expect(
      planRun({ rendered, read: (p) => disk.get(p), generatorVersion: '1.1.0' }).operations.filter(
        (o) => o.path === 'views.py',
      ),
    ).toEqual([]);
  });

  it('plans no operation at all for an unchanged repository', () => {
    const disk = diskAfterRun('1.0.0', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const plan = planRun({
      rendered: [generated('a.txt', 'a\n'), generated('b.txt', 'b\n')],
      read: (p) => disk.get(p),
      generatorVersion: '1.0.0',
    });
    expect(plan.operations).toEqual([]);
  });
});

describe('mergeThreeWay', () => {
  it('merges edits to different lines and marks edits to the same line', () => {
    const base = 'a\nb\nc\nd\ne\n';
    expect(mergeThreeWay(base, 'a\nB\nc\nd\ne\n', 'a\nb\nc\nd\nE\n')).toEqual({
      text: 'a\nB\nc\nd\nE\n',
      conflicts: 0,
    });
    const conflicted = mergeThreeWay(base, 'a\nmine\nc\nd\ne\n', 'a\ntheirs\nc\nd\ne\n');
    expect(conflicted.conflicts).toBe(1);
    expect(conflicted.text).toBe('a\n<<<<<<< yours (on disk)\nmine\n=======\ntheirs\n>>>>>>> new template\nc\nd\ne\n');
  });

  it('takes the same change made on both sides once', () => {
    expect(mergeThreeWay('a\nb\n', 'a\nB\n', 'a\nB\n')).toEqual({ text: 'a\nB\n', conflicts: 0 });
  });
});

describe('versions', () => {
  it('orders dotted versions numerically and picks the moves after a version', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBe(1);
    expect(compareVersions('1.0.0', '1.0')).toBe(0);
    const migrations = [
      { version: '0.3.0', moves: [{ from: 'b', to: 'c' }] },
      { version: '0.2.0', moves: [{ from: 'a', to: 'b' }] },
    ];
    expect(movesSince('0.1.0', migrations)).toEqual([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
    ]);
    expect(movesSince('0.2.0', migrations)).toEqual([{ from: 'b', to: 'c' }]);
  });
});

describe('serialiseState', () => {
  it('lists files in code-unit order, whatever the locale', () => {
    const files = { 'b.txt': 'user', 'README.md': 'generator', 'a/b': 'generator', 'a.b': 'generator', é: 'user' };
    const keys = Object.keys(JSON.parse(serialiseState({ generatorVersion: '1.0.0', files: files as never })).files);
    // localeCompare would give a.b, a/b, b.txt, é, README.md (case and accents folded).
    expect(keys).toEqual(['README.md', 'a.b', 'a/b', 'b.txt', 'é']);
  });
});
