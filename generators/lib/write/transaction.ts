/**
 * Applies a run's file operations so that an interrupt or crash leaves either the old tree or
 * the complete new one. New contents are staged in .secure-stack/staging/, a journal listing them
 * is committed with an atomic rename, then the staged files are renamed into place (each rename is
 * atomic, the staging directory being on the repository's filesystem). A run that finds a journal
 * rolls it forward before doing anything else; staged files without a journal are debris of a
 * run that never committed, and are removed with the staging directory.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FileOperation } from '../upgrade/plan.js';
import { STATE_DIRECTORY } from '../upgrade/state.js';
import { assertNoSymlink, resolveInside } from './safe-paths.js';

const STAGING = `${STATE_DIRECTORY}/staging`;
const JOURNAL = `${STATE_DIRECTORY}/transaction.json`;

interface Journal {
  renames: { staged: string; target: string }[];
  deletes: string[];
}

export function applyOperations(root: string, operations: readonly FileOperation[]): void {
  if (operations.length === 0) return;
  for (const operation of operations) assertNoSymlink(root, operation.path);
  // SIGINT/SIGTERM wait until the tree is complete; only SIGKILL or a crash can cut this short,
  // and the journal lets the next run finish (or discard) the job.
  withSignalsDeferred(() => stageAndCommit(root, operations));
}

function stageAndCommit(root: string, operations: readonly FileOperation[]): void {
  const journal: Journal = { renames: [], deletes: [] };
  mkdirSync(resolveInside(root, STAGING), { recursive: true });
  for (const [index, operation] of operations.entries()) {
    const target = resolveInside(root, operation.path);
    if (operation.op === 'delete') {
      journal.deletes.push(operation.path);
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    const staged = `${STAGING}/${index}`;
    writeFileSync(resolveInside(root, staged), operation.content);
    // An updated file keeps its mode (an executable script stays executable).
    if (existsSync(target)) chmodSync(resolveInside(root, staged), statSync(target).mode & 0o7777);
    journal.renames.push({ staged, target: operation.path });
  }
  const journalPath = resolveInside(root, JOURNAL);
  writeFileSync(`${journalPath}.new`, JSON.stringify(journal));
  // The commit point: from here on, a later run finishes the job.
  renameSync(`${journalPath}.new`, journalPath);
  rollForward(root, journal);
  rmSync(journalPath);
  rmSync(resolveInside(root, STAGING), { recursive: true, force: true });
}

/** Finishes a committed run that was interrupted, and removes debris of one that never committed. */
export function recoverInterruptedRun(root: string): 'rolled-forward' | 'cleaned' | 'clean' {
  const journalPath = join(root, JOURNAL);
  const staging = join(root, STAGING);
  if (existsSync(journalPath)) {
    rollForward(root, JSON.parse(readFileSync(journalPath, 'utf8')) as Journal);
    rmSync(journalPath);
    rmSync(staging, { recursive: true, force: true });
    return 'rolled-forward';
  }
  rmSync(`${journalPath}.new`, { force: true });
  if (!existsSync(staging)) return 'clean';
  rmSync(staging, { recursive: true, force: true });
  return 'cleaned';
}

function rollForward(root: string, journal: Journal): void {
  for (const { staged, target } of journal.renames) {
    const stagedPath = resolveInside(root, staged);
    if (existsSync(stagedPath)) renameSync(stagedPath, resolveInside(root, target));
  }
  for (const path of journal.deletes) rmSync(resolveInside(root, path), { force: true });
}

/** SIGINT/SIGTERM during `work` are held until it is done, then take effect. */
function withSignalsDeferred(work: () => void): void {
  const received: NodeJS.Signals[] = [];
  const hold = (signal: NodeJS.Signals) => received.push(signal);
  process.on('SIGINT', hold);
  process.on('SIGTERM', hold);
  try {
    work();
  } finally {
    // A signal that arrived during the synchronous work is dispatched on the next loop turn.
    setImmediate(() => {
      process.off('SIGINT', hold);
      process.off('SIGTERM', hold);
      for (const signal of received) process.kill(process.pid, signal);
    });
  }
}
