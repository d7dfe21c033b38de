/**
 * Writes (or, for --check and --dry-run, only plans) the stack for validated answers: render the
 * model, plan the upgrade against the disk, then secrets and one transaction for everything else.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Answers } from '../answers/types.js';
import { serialiseAnswers } from '../answers/resolve.js';
import { ExitCode, UserError } from '../errors.js';
import { PACKAGE_VERSION } from '../package-info.js';
import { renderStack, type TemplateFile } from '../render.js';
import { ensureSecrets } from '../secrets.js';
import { buildStackModel } from '../stack/stack-model.js';
import { SECRETS_DIRECTORY, SECRET_FILES } from '../stack/secret-names.js';
import { REDIS_BACKEND_USER, REDIS_HEALTHCHECK_USER } from '../redis-acl.js';
import { describePlan } from '../upgrade/describe.js';
import { planRun, type FileOperation } from '../upgrade/plan.js';
import { GENERATOR_KEY, STORED_CONFIG_FILE } from '../contract.js';
import { storedConfigContent } from '../answers/stored-config.js';
import { assertNoSymlink, resolveInside } from '../write/safe-paths.js';
import { applyOperations } from '../write/transaction.js';
import type { RunLog } from './run-log.js';

export type RunMode = 'write' | 'check' | 'dry-run';

/** Throws a UserError for drift (--check, exit 4) and for conflicts left in files (exit 3). */
export function writeStack(
  root: string,
  answers: Answers,
  files: readonly TemplateFile[],
  mode: RunMode,
  log: RunLog,
): void {
  const model = buildStackModel(answers);
  const read = (path: string) => readIfFile(resolveInside(root, path));
  const plan = planRun({ rendered: renderStack(model, files), read, generatorVersion: PACKAGE_VERSION });
  const config = storedConfigContent(read(STORED_CONFIG_FILE), GENERATOR_KEY, serialiseAnswers(answers));
  const operations: FileOperation[] =
    config === read(STORED_CONFIG_FILE)
      ? plan.operations
      : [...plan.operations, { op: 'write', path: STORED_CONFIG_FILE, content: config }];

  if (mode === 'check') {
    const drifted = [...new Set(operations.map((operation) => operation.path))];
    if (drifted.length > 0) {
      throw new UserError(
        `Drift: a run would change ${drifted.length} file${drifted.length === 1 ? '' : 's'}:\n${drifted.map((path) => `  ${path}`).join('\n')}`,
        ExitCode.driftFound,
      );
    }
    log.ok('No drift: the repository is what the generator would write.');
    return;
  }
  if (mode === 'dry-run') {
    log.info(`Dry run, nothing written:\n${describePlan(plan.actions, operations).join('\n')}`);
    return;
  }
  // Every path is checked before anything is written, secrets included.
  for (const path of [SECRETS_DIRECTORY, ...operations.map((operation) => operation.path)]) assertNoSymlink(root, path);
  // Secrets first: a stack on disk always has its secrets.
  const secrets = ensureSecrets(
    root,
    model.secrets.filter((secret) => secret.generated).map((secret) => secret.name),
    { serverName: answers.serverName },
  );
  applyOperations(root, operations);
  for (const line of describePlan(plan.actions, [])) log.info(line);
  if (secrets.created.length > 0) log.info(`Generated secrets (values not shown): ${secrets.created.join(', ')}`);
  if (secrets.upgraded.includes('redis_acl')) {
    // A Swarm secret cannot change in place: stack deploy refuses a new content under the same name.
    const onSwarm = answers.swarm
      ? `; on a swarm, where a secret cannot change in place, remove the stack (docker stack rm ${answers.projectName}; its volumes stay) before docker stack deploy`
      : '';
    log.info(
      `Upgraded ${SECRETS_DIRECTORY}/${SECRET_FILES.redis_acl} to the stack's Redis users (the backend keeps its password): docker compose up -d redis backend${onSwarm}`,
    );
  }
  if (secrets.tooOpen.includes('tls_key')) {
    log.info(
      `Warning: ${SECRETS_DIRECTORY}/${SECRET_FILES.tls_key} can be read by every user in nginx's container, its workers too. After docker compose up -d (nginx's master can then read a key only its owner may), run: chmod 0400 ${SECRETS_DIRECTORY}/${SECRET_FILES.tls_key}`,
    );
  }
  if (secrets.edited.includes('redis_acl'))
    log.info(
      `Warning: ${SECRETS_DIRECTORY}/${SECRET_FILES.redis_acl} was edited, so it is left as it is: it must define the users "${REDIS_BACKEND_USER}" and "${REDIS_HEALTHCHECK_USER}" (README.md, "Redis users"), or delete it to have it derived again`,
    );
  if (plan.conflicted.length > 0) {
    throw new UserError(
      `Merge conflicts: your edits and the new templates changed the same lines in:\n${plan.conflicted.map((path) => `  ${path}`).join('\n')}\nResolve the <<<<<<< / >>>>>>> blocks, then re-run.`,
      ExitCode.mergeConflicts,
    );
  }
  const onSwarm = answers.swarm
    ? `; on a swarm: docker stack deploy -c stack.yaml ${answers.projectName} (README.md, "Deploy to a swarm")`
    : '';
  log.ok(`Stack "${answers.projectName}" written. Start it with: docker compose up -d --build${onSwarm}`);
}

export function runMode(options: Record<string, unknown>): RunMode {
  if (options['check'] === true) return 'check';
  if (options['dry-run'] === true) return 'dry-run';
  return 'write';
}

function readIfFile(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}
