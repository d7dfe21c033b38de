/**
 * Secret generation and storage. Secrets come from node:crypto, are written straight to disk
 * (never through mem-fs, whose conflict diffs would print them), are never printed, and are
 * never overwritten: Postgres reads its password only when its data directory is empty, so a
 * new password would lock the stack out of its own database.
 */
import { randomInt } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from './errors.js';
import { legacyRedisAcl, redisAcl } from './redis-acl.js';
import { certificateForKey, newPrivateKeyPem } from './tls/self-signed.js';
import { SECRETS_DIRECTORY, SECRET_FILES, type SecretName } from './stack/secret-names.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// No "$" (Compose interpolation), quotes or "#" (env-file and shell pitfalls) in the key.
const SECRET_KEY_ALPHABET = `${ALPHANUMERIC}-_!@%^&*(=+)`;

export const SECRET_KEY_LENGTH = 64;
export const PASSWORD_LENGTH = 40;

/** Uniform random string: randomInt rejects biased draws, unlike `byte % alphabet.length`. */
export function randomString(length: number, alphabet: string): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/** Mode of secret files: readable by the (non-root) user inside each container; the directory is 0700. */
const SECRET_FILE_MODE = 0o444;
/** The TLS key: nginx's master alone reads it, as root (model.ts, TLS_KEY_READER); its workers cannot. */
export const TLS_KEY_MODE = 0o400;

const fileMode = (name: SecretName) => (name === 'tls_key' ? TLS_KEY_MODE : SECRET_FILE_MODE);

const SECRET_DIRECTORY_MODE = 0o700;

export interface SecretWriteReport {
  created: SecretName[];
  /** Derived files an older version wrote, replaced by what the kept secrets now derive. */
  upgraded: SecretName[];
  /** Derived files that are neither what we derive nor what an older version wrote: kept as they are. */
  edited: SecretName[];
  /**
   * Kept files others may read that should not be (a TLS key older versions wrote 0444). Not
   * changed here: a restarted nginx of the old compose.yaml could no longer read a 0400 key.
   */
  tooOpen: SecretName[];
}

/**
 * Creates each missing secret of `needed` under <destination>/secrets; existing ones are kept as
 * they are. Each is written to a temporary file and hard-linked into place: link(2) fails if the
 * name exists (never overwrite, atomically) and a reader never sees a half-written secret.
 */
export function ensureSecrets(
  destination: string,
  needed: readonly SecretName[],
  context: SecretContext,
): SecretWriteReport {
  const directory = join(destination, SECRETS_DIRECTORY);
  const exists = (name: SecretName) => existsSync(join(directory, SECRET_FILES[name]));
  if (needed.includes('tls_key') && !exists('tls_key') && exists('tls_cert')) {
    throw new UserError(
      `${SECRETS_DIRECTORY}/${SECRET_FILES.tls_cert} exists without its key ${SECRETS_DIRECTORY}/${SECRET_FILES.tls_key}; delete the certificate to have a new pair made. Nothing was written.`,
      ExitCode.usage,
    );
  }
  mkdirSync(directory, { recursive: true, mode: SECRET_DIRECTORY_MODE });
  chmodSync(directory, SECRET_DIRECTORY_MODE);
  const report: SecretWriteReport = { created: [], upgraded: [], edited: [], tooOpen: [] };
  // Sources before what is derived from them: the ACL from the Redis password, the certificate from the key.
  const order = [...needed].sort((a, b) => Number(DERIVED.has(a)) - Number(DERIVED.has(b)));
  for (const name of order) {
    const path = join(directory, SECRET_FILES[name]);
    if (existsSync(path)) {
      const outcome = name === 'redis_acl' ? upgradeRedisAcl(path, directory) : 'kept';
      if (outcome !== 'kept') report[outcome].push(name);
      const ownerOnly = (fileMode(name) & 0o077) === 0;
      if (ownerOnly && (statSync(path).mode & 0o077) !== 0) report.tooOpen.push(name);
      continue;
    }
    const temporary = join(directory, `.${SECRET_FILES[name]}.${process.pid}.tmp`);
    try {
      writeFileSync(temporary, secretValue(name, directory, context), { mode: fileMode(name) });
      linkSync(temporary, path);
      report.created.push(name);
    } catch (error) {
      // Made meanwhile by another run: kept, as every existing secret is.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  return report;
}

export interface SecretContext {
  /** Host name the self-signed certificate is for. */
  serverName: string;
}

const DERIVED = new Set<SecretName>(['redis_acl', 'tls_cert']);

const readSecret = (directory: string, name: SecretName) =>
  readFileSync(join(directory, SECRET_FILES[name]), 'utf8').trim();

function derivedRedisAcl(directory: string): string {
  return redisAcl(readSecret(directory, 'redis_password'), readSecret(directory, 'redis_healthcheck_password'));
}

/**
 * The ACL holds no secret of its own, only hashes of the password files, which stay as they are.
 * The one-user ACL of older versions is replaced (the backend keeps its password); an ACL that
 * is neither that nor the current one was edited, and is kept.
 */
function upgradeRedisAcl(path: string, directory: string): 'kept' | 'upgraded' | 'edited' {
  const current = readFileSync(path, 'utf8');
  const derived = derivedRedisAcl(directory);
  if (current === derived) return 'kept';
  if (current !== legacyRedisAcl(readSecret(directory, 'redis_password'))) return 'edited';
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, derived, { mode: SECRET_FILE_MODE });
  renameSync(temporary, path);
  return 'upgraded';
}

function secretValue(name: SecretName, directory: string, context: SecretContext): string {
  switch (name) {
    case 'django_secret_key':
      return randomString(SECRET_KEY_LENGTH, SECRET_KEY_ALPHABET);
    case 'db_password':
    case 'db_owner_password':
    case 'redis_password':
    case 'redis_healthcheck_password':
      return randomString(PASSWORD_LENGTH, ALPHANUMERIC);
    case 'redis_acl':
      return derivedRedisAcl(directory);
    case 'tls_key':
      return newPrivateKeyPem();
    case 'tls_cert':
      return certificateForKey(context.serverName, readFileSync(join(directory, SECRET_FILES.tls_key), 'utf8'));
  }
}
