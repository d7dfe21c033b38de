/**
 * The Compose client that runs a generated stack: `docker compose` (v2) when the docker CLI has
 * it, else the standalone `docker-compose` (1.29, what Debian 12 and Ubuntu 22.04 package), else
 * `podman-compose`. verify recreates services through it, and the end-to-end tests boot every
 * stack through it.
 *
 * The one difference: docker-compose 1.29 refuses the Compose Specification's top-level `name:`
 * ("'name' does not match any of the regexes: '^x-'"). It is given compose.yaml on stdin
 * (`-f -`) without that key and the same name as `-p`, so nothing is written into the user's
 * repository; relative paths resolve against `--project-directory`, as for the file itself.
 */
import { isMap, isScalar, parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess, type EngineName, type ExecResult } from './engine.js';

export type { ExecResult };

export type ComposeClientName = 'docker compose' | 'docker-compose' | 'podman-compose';

export interface ComposeClient {
  name: ComposeClientName;
  /** Version it reported, for the report ("docker-compose 1.29.2"). */
  version: string;
  /** Environment of every call (DOCKER_HOST, PATH). */
  env: NodeJS.ProcessEnv;
}

/** A swarm recreates through `docker service update`, not a Compose client. */
export type ComposeEngineName = Exclude<EngineName, 'swarm'>;

export const CANDIDATES: Record<ComposeEngineName, { name: ComposeClientName; command: string; prefix: string[] }[]> = {
  docker: [
    { name: 'docker compose', command: 'docker', prefix: ['compose'] },
    { name: 'docker-compose', command: 'docker-compose', prefix: [] },
  ],
  podman: [{ name: 'podman-compose', command: 'podman-compose', prefix: [] }],
};

function invocation(name: ComposeClientName): { command: string; prefix: string[] } {
  const found = Object.values(CANDIDATES)
    .flat()
    .find((candidate) => candidate.name === name);
  if (!found) throw new Error(`unknown Compose client ${name}`);
  return found;
}

/** The first client for `engine` that answers `version`, or undefined when none does. */
export async function detectComposeClient(
  engine: ComposeEngineName,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ComposeClient | undefined> {
  for (const candidate of CANDIDATES[engine]) {
    const result = await runProcess(
      candidate.command,
      [...candidate.prefix, 'version', ...(candidate.name === 'podman-compose' ? [] : ['--short'])],
      { env, timeoutMs: 30_000 },
    );
    if (result.code === 0) {
      const version = /\d+\.\d+\.\d+/.exec(result.stdout)?.[0] ?? 'unknown version';
      return { name: candidate.name, version, env };
    }
  }
  return undefined;
}

/**
 * compose.yaml as the client is given it: unchanged, or for docker-compose 1.29 with the line of
 * the top-level `name:` cut out of the text, so that nothing else is re-serialised (YAML 1.1, which
 * 1.29 reads, gives some plain scalars another value than YAML 1.2 does: `0440` is octal there).
 */
export function composeFileFor(client: ComposeClientName, composeText: string): string {
  if (client !== 'docker-compose') return composeText;
  const document = parseDocument(composeText);
  if (!isMap(document.contents)) return composeText;
  const pair = document.contents.items.find((item) => isScalar(item.key) && item.key.value === 'name');
  if (!pair) return composeText;
  const start = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  const end = isScalar(pair.value) ? pair.value.range?.[2] : undefined;
  // A block mapping's key starts a line; a flow mapping at the top ({name: x, ...}) is not cut.
  if (start === undefined || end === undefined || (start > 0 && composeText[start - 1] !== '\n')) {
    throw new Error(
      'compose.yaml: the top-level name: is not on a line of its own; docker-compose 1.29 cannot read a file with it',
    );
  }
  return composeText.slice(0, start) + composeText.slice(end);
}

/** Runs `<client> -p PROJECT ... ARGS` for the repository in `directory`. */
export function runCompose(
  client: ComposeClient,
  directory: string,
  project: string,
  args: string[],
  timeoutMs = 600_000,
): Promise<ExecResult> {
  const { command, prefix } = invocation(client.name);
  const composePath = join(directory, 'compose.yaml');
  if (client.name === 'docker-compose') {
    const stdin = composeFileFor(client.name, readFileSync(composePath, 'utf8'));
    return runProcess(
      command,
      [...prefix, '--project-name', project, '--project-directory', directory, '--file', '-', ...args],
      { cwd: directory, env: client.env, stdin, timeoutMs },
    );
  }
  // podman-compose 1.0.3 (Debian 12) has no --project-directory: it resolves paths from the file's directory.
  const projectDirectory = client.name === 'podman-compose' ? [] : ['--project-directory', directory];
  return runProcess(
    command,
    [...prefix, '--project-name', project, ...projectDirectory, '--file', composePath, ...args],
    { cwd: directory, env: client.env, timeoutMs },
  );
}

/** Throws with the client's own words when it fails. */
export async function mustCompose(
  client: ComposeClient,
  directory: string,
  project: string,
  args: string[],
  timeoutMs?: number,
): Promise<ExecResult> {
  const result = await runCompose(client, directory, project, args, timeoutMs);
  if (result.code !== 0)
    throw new Error(
      `${client.name} ${args.join(' ')} failed (${result.code}): ${(result.stderr.trim() || result.stdout.trim()).slice(-600)}`,
    );
  return result;
}
