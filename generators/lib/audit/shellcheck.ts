/**
 * shellcheck on shell scripts: the files this repository ships, and the shell-form healthchecks
 * (`CMD-SHELL`) of a generated compose.yaml, which the container runs with `/bin/sh -c`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Finding } from './findings.js';
import { runTool, unreadableOutput, type ExternalTool } from './external-tool.js';

export const SHELLCHECK: ExternalTool = {
  scanner: 'shellcheck',
  command: 'shellcheck',
  debianPackage: 'shellcheck',
  versionPattern: /^version: (\S+)/m,
};

interface ShellcheckComment {
  file: string;
  line: number;
  column: number;
  level: string;
  code: number;
  message: string;
}

/** shellcheck's comments on `files` (relative to `cwd`), keyed back to each file's name. */
function shellcheckComments(files: readonly string[], cwd: string, shell?: 'sh'): ShellcheckComment[] {
  if (files.length === 0) return [];
  // Follow `source` lines to files named relative to the script, as its `# shellcheck source=` say.
  const args = [
    '--format=json1',
    '--external-sources',
    '--source-path=SCRIPTDIR',
    ...(shell ? [`--shell=${shell}`] : []),
    '--',
    ...files,
  ];
  const output = runTool(SHELLCHECK, args, { cwd });
  let comments: ShellcheckComment[] | undefined;
  try {
    comments = (JSON.parse(output.stdout) as { comments?: ShellcheckComment[] }).comments;
  } catch {
    throw unreadableOutput(SHELLCHECK, output);
  }
  // Exit 1 means comments; 2 and above mean a file could not be read or an option was wrong.
  if ((output.status !== 0 && output.status !== 1) || !Array.isArray(comments))
    throw unreadableOutput(SHELLCHECK, output);
  return comments;
}

function message(comment: ShellcheckComment): string {
  return `${comment.level}: ${comment.message}`;
}

/** Findings on shell script files (paths relative to `cwd`), located as `path:line`. */
export function shellcheckFiles(files: readonly string[], cwd: string): Finding[] {
  return shellcheckComments(files, cwd).map((comment) => ({
    scanner: 'shellcheck',
    id: `SC${comment.code}`,
    location: `${comment.file}:${comment.line}`,
    message: message(comment),
  }));
}

interface ShellHealthcheck {
  service: string;
  script: string;
}

/** The shell-form healthchecks: `test: "..."` and `test: ["CMD-SHELL", "..."]`; exec form runs no shell. */
export function shellHealthchecks(composeText: string): ShellHealthcheck[] {
  type Compose = { services?: Record<string, { healthcheck?: { test?: unknown } } | null> } | null;
  const services = (parse(composeText) as Compose)?.services ?? {};
  const checks: ShellHealthcheck[] = [];
  for (const [service, definition] of Object.entries(services)) {
    const test = definition?.healthcheck?.test;
    const shellForm = Array.isArray(test) && test[0] === 'CMD-SHELL';
    const script = typeof test === 'string' ? test : shellForm ? test.slice(1).join(' ') : undefined;
    // Compose turns "$$" into the "$" the shell sees.
    if (script !== undefined) checks.push({ service, script: script.replaceAll('$$', '$') });
  }
  return checks;
}

/** Findings on the shell-form healthchecks of a compose file, located as `compose.yaml services.NAME.healthcheck`. */
export function shellcheckComposeHealthchecks(repositoryDirectory: string, composeFile = 'compose.yaml'): Finding[] {
  const checks = shellHealthchecks(readFileSync(join(repositoryDirectory, composeFile), 'utf8'));
  const directory = mkdtempSync(join(tmpdir(), 'secure-stack-healthchecks-'));
  try {
    // One file per check, named by its index: service names need not be valid file names.
    const files = checks.map((check, index) => {
      writeFileSync(join(directory, `${index}.sh`), `${check.script}\n`);
      return `${index}.sh`;
    });
    const comments = shellcheckComments(files, directory, 'sh');
    // In the compose file's order of services: shellcheck does not keep the order of its files.
    const checkOf = (comment: ShellcheckComment): number => files.indexOf(comment.file);
    return comments
      .sort((a, b) => checkOf(a) - checkOf(b) || a.line - b.line || a.column - b.column)
      .map((comment) => ({
        scanner: 'shellcheck',
        id: `SC${comment.code}`,
        location: `${composeFile} services.${checks[checkOf(comment)]?.service ?? '?'}.healthcheck`,
        message: `${message(comment)} (column ${comment.column})`,
      }));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
