import { SECRETS_MOUNT_DIRECTORY } from '../contract.js';

/** The Docker secrets of the stack: one file each under secrets/, mounted at /run/secrets/<name>. */
export const SECRET_FILES = {
  django_secret_key: 'django_secret_key.txt',
  db_password: 'db_password.txt',
  // The database owner's, a superuser the application never uses (postgres/app-role.sql).
  db_owner_password: 'db_owner_password.txt',
  redis_password: 'redis_password.txt',
  // The password of Redis's healthcheck user, which may only PING.
  redis_healthcheck_password: 'redis_healthcheck_password.txt',
  // Redis's users (redis-acl.ts), holding only the SHA-256 of each password: redis-server reads
  // it with --aclfile, so no password appears in argv, in the environment or in compose.yaml.
  redis_acl: 'redis_users.acl',
  // With tls "self-signed" both are made here; with "provided" they are the user's files.
  tls_cert: 'tls_cert.pem',
  tls_key: 'tls_key.pem',
} as const;
export type SecretName = keyof typeof SECRET_FILES;

export const SECRETS_DIRECTORY = 'secrets';

export function secretPath(name: SecretName): string {
  return `${SECRETS_DIRECTORY}/${SECRET_FILES[name]}`;
}

/** Where Compose mounts a secret inside a container. */
export function secretMountPath(name: SecretName): string {
  return `${SECRETS_MOUNT_DIRECTORY}/${name}`;
}
