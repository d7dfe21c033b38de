/**
 * The stack model: every decision about the generated stack (which service joins which network,
 * gets which secret, waits for whom, checks its health how) made here, in typed code. Templates
 * only lay the model out as YAML, nginx config, Python and Markdown.
 */
import { ALL_INTERFACES, type Answers, type RestartPolicy } from '../answers/types.js';
import type { Route } from '../answers/routes.js';
import {
  BACKEND_HEALTH_PATH,
  BACKEND_PORT,
  DB_OWNER_ROLE,
  NGINX_HEALTH_PATH,
  NGINX_HEALTH_PORT,
  NGINX_HTTP_PORT,
  NGINX_HTTPS_PORT,
} from '../contract.js';
import { DATA_DIRECTORIES, IMAGES } from './images.js';
import { NGINX_CONFIG, POSTGRES_ROLES_SCRIPT, POSTGRES_ROLES_SCRIPT_MOUNT } from './repository-paths.js';
import { REDIS_BACKEND_USER, REDIS_HEALTHCHECK_USER } from '../redis-acl.js';
import { SECRET_FILES, secretMountPath, secretPath, type SecretName } from './secret-names.js';
import {
  entryLimits,
  GUNICORN_KEEPALIVE_SECONDS,
  GUNICORN_THREADS,
  UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS,
  gunicornWorkers,
  nginxSettings,
  postgresSettings,
  redisSettings,
  tmpfsMount,
  type EntryLimits,
  type NginxSettings,
  type TmpfsMount,
} from './tuning.js';

export type ServiceName = 'nginx' | 'backend' | 'postgres' | 'redis';
export type NetworkName = 'frontend-network' | 'backend-network';

export interface NetworkModel {
  name: NetworkName;
  /** internal: true gives the network no route out of the host: nothing on it reaches the internet. */
  internal: boolean;
  purpose: string;
}

export interface Healthcheck {
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export interface AddedCapability {
  capability: string;
  reason: string;
  /** Needed only where a secret is the host's file as it is (Compose), not on Swarm (root's own copy). */
  forFileSecrets?: true;
}

/** Container hardening of one service (CIS Docker Benchmark v1.6 section 5, OWASP Docker cheat sheet). */
export interface Hardening {
  /** Runs as this uid:gid from the start; unset where the image must start as root and drop. */
  user?: string;
  /** Everything is dropped (cap_drop: ALL); these few are added back, each with its reason. */
  capAdd: AddedCapability[];
  /** The root filesystem is read-only; these paths are writable tmpfs mounts, each sized. */
  tmpfs: TmpfsMount[];
  pidsLimit: number;
}

/** A port published on the host: the host's port and the container's. */
export interface PublishedPort {
  hostPort: number;
  containerPort: number;
}

export interface ServiceModel {
  name: ServiceName;
  purpose: string;
  image: string;
  /** Build context, for images built from this repository. */
  build?: string;
  command?: string[];
  publishedPorts: PublishedPort[];
  /** Compose's short syntax of publishedPorts, with the answered bind address. */
  ports: string[];
  networks: NetworkName[];
  secrets: SecretName[];
  environment: { name: string; value: string }[];
  volumes: string[];
  dependsOn: ServiceName[];
  healthcheck: Healthcheck;
  memoryLimit: string;
  /** Compose `cpus`, when the answers give one. */
  cpuLimit?: string;
  shmSize?: string;
  hardening: Hardening;
}

export interface SecretModel {
  name: SecretName;
  file: string;
  mountPath: string;
  usedBy: ServiceName[];
  /** Made by the generator under secrets/; false for the user's own TLS files. */
  generated: boolean;
}

/** HTTPS, when the tls answer is not "off". */
export interface TlsModel {
  mode: 'self-signed' | 'provided';
  /** Port nginx listens on for HTTPS inside its container. */
  containerPort: number;
  httpsPort: number;
  /** What follows $host in the HTTP-to-HTTPS redirect: ":8443", or nothing for 443. */
  redirectPortSuffix: string;
  /** Mozilla: two years, this host only; includeSubDomains and preload only with hstsPreload. */
  hsts: string;
  hstsPreload: boolean;
  profile: TlsProfile;
}

/** What nginx offers on its HTTPS socket, in OpenSSL's names. */
export interface TlsProfile {
  name: string;
  protocols: readonly string[];
  ciphers: readonly string[];
  curves: readonly string[];
}

/**
 * Mozilla's server-side TLS guidelines 6.0, "intermediate": TLS 1.2 and 1.3, ECDHE with AEAD
 * only. 6.0 dropped the DHE suites, so nginx needs no DH parameters. Its first curve,
 * X25519MLKEM768, is left out: OpenSSL 3.0 (Debian 12, the images' nginx) does not know it and
 * nginx would refuse the configuration. No OCSP stapling: Let's Encrypt ended its OCSP service in
 * 2025 and CAs may now omit the responder; browsers check revocation through CRLs, and stapling
 * would need a resolver that works on every engine (127.0.0.11 is Docker's alone).
 */
export const TLS_PROFILE: TlsProfile = {
  name: 'Mozilla intermediate (server-side TLS guidelines 6.0), without X25519MLKEM768',
  protocols: ['TLSv1.2', 'TLSv1.3'],
  ciphers: [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ],
  curves: ['X25519', 'prime256v1', 'secp384r1'],
};

export interface VolumeModel {
  name: string;
  purpose: string;
}

/**
 * How nginx finds the backend. Compose: a static upstream, resolved once when nginx starts (the
 * backend is healthy by then, depends_on waits for it) and kept alive. Swarm: nothing orders
 * start-up and replicas come and go, so the name is resolved per request through Docker's DNS.
 */
export type NginxUpstream =
  | { kind: 'static'; name: string; server: string; keepalive: number; keepaliveTimeout: string; proxyPass: string }
  | { kind: 'resolved'; resolver: string; valid: string; variable: string; url: string; proxyPass: string };

const BACKEND_UPSTREAM_NAME = 'backend';

/** The stack as Compose runs it; stack-model.ts adds the Swarm target. */
export interface ComposeModel {
  projectName: string;
  serverName: string;
  httpPort: number;
  dbName: string;
  dbUser: string;
  redis: boolean;
  restartPolicy: RestartPolicy;
  tls: TlsModel | null;
  /** Files .gitignore must keep out of git beyond secrets/ (a provided TLS key inside the repo). */
  ignoredPaths: string[];
  backendPort: number;
  /** gunicorn threads per worker; the worker count is in the backend's WEB_CONCURRENCY. */
  backendThreads: number;
  /** gunicorn's --keep-alive, longer than nginx's upstream keepalive_timeout. */
  backendKeepAliveSeconds: number;
  backendImage: string;
  /** Base image of the backend's Dockerfile. */
  pythonImage: string;
  nginxHealthPath: string;
  nginxHealthPort: number;
  backendHealthPath: string;
  /**
   * The backend's /health/ through the published ports too (the publicHealth answer). It is always
   * on nginx's loopback listener, for verify and operators; in public it tells anyone which data
   * store is down and costs a database round trip per call.
   */
  publicBackendHealth: boolean;
  /** Port nginx listens on inside its container: unprivileged, so it needs no NET_BIND_SERVICE. */
  nginxHttpPort: number;
  nginx: NginxSettings;
  upstream: NginxUpstream;
  /** Big enough for serverName: nginx refuses a config whose names overflow a hash bucket. */
  serverNamesHashBucketSize: number;
  rateLimit: RateLimit;
  /** What one client can make nginx hold (tuning.ts). */
  entry: EntryLimits;
  logging: { maxSize: string; maxFiles: number };
  services: ServiceModel[];
  networks: NetworkModel[];
  secrets: SecretModel[];
  volumes: VolumeModel[];
  routes: Route[];
}

export interface RateLimit {
  zone: string;
  zoneSize: string;
  rate: string;
  burst: number;
}

/** Per client address on the proxied routes, from the rateLimit answer; over it nginx answers 429. */
export function rateLimitFor(requestsPerSecond: number): RateLimit {
  // 1m of shared memory holds about 16 000 client addresses.
  return { zone: 'per_client', zoneSize: '1m', rate: `${requestsPerSecond}r/s`, burst: requestsPerSecond * 2 };
}
/** json-file rotation: a chatty or attacked service cannot fill the host's disk with logs. */
export const LOG_ROTATION = { maxSize: '10m', maxFiles: 3 } as const;
/** Official images' service users (postgres and redis images: uid 999), and the backend's own. */
const IMAGE_USERS = { postgres: '999:999', redis: '999:999', backend: '10001:10001' } as const;
/** Mozilla's guidelines: two years, for this host. Preloading also covers every subdomain. */
export const HSTS_HEADER = 'max-age=63072000';
export const HSTS_PRELOAD_HEADER = `${HSTS_HEADER}; includeSubDomains; preload`;

export const NETWORKS: Record<NetworkName, NetworkModel> = {
  'frontend-network': {
    name: 'frontend-network',
    internal: false,
    purpose: 'public side: nginx and the backend it proxies to',
  },
  'backend-network': {
    name: 'backend-network',
    internal: true,
    purpose: 'private side, no route out: the backend and its data stores',
  },
};

/** Least privilege: each service joins only the networks it talks on. */
const NETWORK_MEMBERSHIP: Record<ServiceName, NetworkName[]> = {
  nginx: ['frontend-network'],
  backend: ['frontend-network', 'backend-network'],
  postgres: ['backend-network'],
  redis: ['backend-network'],
};

const HEALTH_TIMING = { interval: '10s', timeout: '5s', retries: 5 } as const;

export function buildComposeModel(answers: Answers): ComposeModel {
  const services: ServiceModel[] = [nginxService(answers), backendService(answers), postgresService(answers)];
  if (answers.redis) services.push(redisService(answers));
  for (const service of services) {
    const cpus = answers.cpus[service.name];
    if (cpus !== null) service.cpuLimit = String(cpus);
  }

  const secrets = (Object.keys(SECRET_FILES) as SecretName[])
    .map((name) => {
      const provided = providedFile(answers, name);
      return {
        name,
        file: provided ?? `./${secretPath(name)}`,
        mountPath: secretMountPath(name),
        usedBy: services.filter((service) => service.secrets.includes(name)).map((service) => service.name),
        generated: provided === undefined,
      };
    })
    .filter((secret) => secret.usedBy.length > 0);

  const volumes: VolumeModel[] = [{ name: 'postgres_data', purpose: 'PostgreSQL data directory' }];
  if (answers.redis) volumes.push({ name: 'redis_data', purpose: 'Redis append-only file' });

  const nginx = nginxSettings(answers.memory.nginx.bytes);
  const model: ComposeModel = {
    projectName: answers.projectName,
    serverName: answers.serverName,
    httpPort: answers.httpPort,
    dbName: answers.dbName,
    dbUser: answers.dbUser,
    redis: answers.redis,
    restartPolicy: answers.restart,
    tls: tlsModel(answers),
    ignoredPaths:
      answers.tls === 'provided' && answers.tlsKey && !answers.tlsKey.startsWith('/') ? [`/${answers.tlsKey}`] : [],
    backendPort: BACKEND_PORT,
    backendThreads: GUNICORN_THREADS,
    backendKeepAliveSeconds: GUNICORN_KEEPALIVE_SECONDS,
    backendImage: backendImageName(answers.projectName),
    pythonImage: IMAGES.python,
    nginxHealthPath: NGINX_HEALTH_PATH,
    nginxHealthPort: NGINX_HEALTH_PORT,
    backendHealthPath: BACKEND_HEALTH_PATH,
    publicBackendHealth: answers.publicHealth,
    nginxHttpPort: NGINX_HTTP_PORT,
    nginx,
    upstream: {
      kind: 'static',
      name: BACKEND_UPSTREAM_NAME,
      server: `${BACKEND_UPSTREAM_NAME}:${BACKEND_PORT}`,
      keepalive: nginx.upstreamKeepalive,
      keepaliveTimeout: `${UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS}s`,
      proxyPass: `http://${BACKEND_UPSTREAM_NAME}`,
    },
    serverNamesHashBucketSize: serverNamesHashBucketSize(answers.serverName),
    rateLimit: rateLimitFor(answers.rateLimit),
    entry: entryLimits(answers.memory.nginx.bytes, answers.maxBodySize, rateLimitFor(answers.rateLimit).burst),
    logging: { ...LOG_ROTATION },
    services,
    networks: [NETWORKS['frontend-network'], NETWORKS['backend-network']],
    secrets,
    volumes,
    routes: answers.routes,
  };
  return model;
}

/**
 * nginx stores each server name in a hash bucket with a pointer and length (about 10 bytes, padded
 * to 8) and ends the bucket with a null pointer. The default bucket is 64 bytes (a cache line), which
 * holds names of up to 46 characters; RFC 1123 allows 253 ("could not build server_names_hash").
 */
export function serverNamesHashBucketSize(serverName: string): number {
  const needed = Math.ceil((serverName.length + 10) / 8) * 8 + 8;
  let size = 64;
  while (size < needed) size *= 2;
  return size;
}

function tlsModel(answers: Answers): TlsModel | null {
  if (answers.tls === 'off') return null;
  return {
    mode: answers.tls,
    containerPort: NGINX_HTTPS_PORT,
    httpsPort: answers.httpsPort,
    redirectPortSuffix: answers.httpsPort === 443 ? '' : `:${answers.httpsPort}`,
    hsts: answers.hstsPreload ? HSTS_PRELOAD_HEADER : HSTS_HEADER,
    hstsPreload: answers.hstsPreload,
    profile: TLS_PROFILE,
  };
}

/** A provided TLS file, as Compose reads it: relative to compose.yaml, or absolute. */
function providedFile(answers: Answers, name: SecretName): string | undefined {
  if (answers.tls !== 'provided') return undefined;
  const path = name === 'tls_cert' ? answers.tlsCert : name === 'tls_key' ? answers.tlsKey : null;
  if (!path) return undefined;
  return path.startsWith('/') ? path : `./${path}`;
}

/** "host:container" with the answered bind address: none for all interfaces, [v6] bracketed. */
export function publishedPort(bindAddress: string, hostPort: number, containerPort: number): string {
  if (bindAddress === ALL_INTERFACES) return `${hostPort}:${containerPort}`;
  return `${bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress}:${hostPort}:${containerPort}`;
}

/** The locally built backend image gets a fixed tag: an untagged image would mean `latest`. */
export function backendImageName(projectName: string): string {
  return `${projectName}-backend:local`;
}

/**
 * The TLS key is 0400, its owner whoever generated the stack (or brought the key): on Compose the
 * container sees the host file as it is, and nginx's master (root) then needs DAC_OVERRIDE to read
 * it. Its workers switch to "nginx" and lose every capability, so they cannot read the file: a
 * file-read bug in request handling (a traversal through an alias, say) cannot fetch the key.
 * Not DAC_READ_SEARCH, which would read it as well but also opens files by handle
 * (open_by_handle_at: the "Shocker" escape through a bind mount). Bind mounts are read-only and the
 * root filesystem too, so overriding write permissions gains nothing.
 */
const TLS_KEY_READER: AddedCapability = {
  capability: 'DAC_OVERRIDE',
  reason: "let the master (root) read the TLS key, 0400 and the host user's",
  forFileSecrets: true,
};

function nginxService(answers: Answers): ServiceModel {
  const publishedPorts: PublishedPort[] = [
    { hostPort: answers.httpPort, containerPort: NGINX_HTTP_PORT },
    ...(answers.tls === 'off' ? [] : [{ hostPort: answers.httpsPort, containerPort: NGINX_HTTPS_PORT }]),
  ];
  return {
    name: 'nginx',
    purpose: 'reverse proxy, the only service with a published port',
    image: IMAGES.nginx,
    publishedPorts,
    ports: publishedPorts.map((port) => publishedPort(answers.bindAddress, port.hostPort, port.containerPort)),
    networks: NETWORK_MEMBERSHIP.nginx,
    secrets: answers.tls === 'off' ? [] : ['tls_cert', 'tls_key'],
    environment: [],
    volumes: [`./${NGINX_CONFIG}:/etc/nginx/nginx.conf:ro`],
    dependsOn: ['backend'],
    healthcheck: {
      // The loopback-only listener: the published ports never reach it.
      test: [
        'CMD',
        'curl',
        '--fail',
        '--silent',
        '--output',
        '/dev/null',
        `http://127.0.0.1:${NGINX_HEALTH_PORT}${NGINX_HEALTH_PATH}`,
      ],
      ...HEALTH_TIMING,
      startPeriod: '10s',
    },
    memoryLimit: answers.memory.nginx.text,
    hardening: {
      // The master starts as root: it opens /dev/stdout and /dev/stderr (pipes owned by root,
      // which an unprivileged process cannot reopen) and then runs its workers as "nginx".
      capAdd: [
        { capability: 'CHOWN', reason: 'give the worker user its temporary directories' },
        { capability: 'SETGID', reason: 'switch the workers to the nginx group' },
        { capability: 'SETUID', reason: 'switch the workers to the nginx user' },
        ...(answers.tls === 'off' ? [] : [TLS_KEY_READER]),
      ],
      tmpfs: [tmpfsMount('/tmp', answers.memory.nginx.bytes)],
      pidsLimit: 64,
    },
  };
}

function backendService(answers: Answers): ServiceModel {
  const secrets: SecretName[] = answers.redis
    ? ['django_secret_key', 'db_password', 'redis_password']
    : ['django_secret_key', 'db_password'];
  const environment = [
    { name: 'DJANGO_SECRET_KEY_FILE', value: secretMountPath('django_secret_key') },
    { name: 'POSTGRES_HOST', value: 'postgres' },
    { name: 'POSTGRES_DB', value: answers.dbName },
    { name: 'POSTGRES_USER', value: answers.dbUser },
    { name: 'DB_PASSWORD_FILE', value: secretMountPath('db_password') },
  ];
  if (answers.redis) {
    environment.push(
      { name: 'REDIS_HOST', value: 'redis' },
      { name: 'REDIS_USER', value: REDIS_BACKEND_USER },
      { name: 'REDIS_PASSWORD_FILE', value: secretMountPath('redis_password') },
    );
  }
  // gunicorn reads its worker count from WEB_CONCURRENCY.
  environment.push({ name: 'WEB_CONCURRENCY', value: String(gunicornWorkers(answers.memory.backend.bytes)) });
  // urlopen raises on any non-2xx, and /health/ answers 503 when a data store is down.
  const probe = `import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:${BACKEND_PORT}${BACKEND_HEALTH_PATH}', headers={'Host': '${answers.serverName}'}), timeout=4)`;
  return {
    name: 'backend',
    purpose: 'Django served by gunicorn as a non-root user',
    image: backendImageName(answers.projectName),
    build: './backend',
    publishedPorts: [],
    ports: [],
    networks: NETWORK_MEMBERSHIP.backend,
    secrets,
    environment,
    volumes: [],
    dependsOn: answers.redis ? ['postgres', 'redis'] : ['postgres'],
    healthcheck: { test: ['CMD', 'python', '-c', probe], ...HEALTH_TIMING, startPeriod: '30s' },
    memoryLimit: answers.memory.backend.text,
    hardening: {
      user: IMAGE_USERS.backend,
      capAdd: [],
      tmpfs: [tmpfsMount('/tmp', answers.memory.backend.bytes)],
      pidsLimit: 128,
    },
  };
}

function postgresService(answers: Answers): ServiceModel {
  const tuning = postgresSettings(answers.memory.postgres.bytes);
  const settings = {
    shared_buffers: tuning.sharedBuffers,
    effective_cache_size: tuning.effectiveCacheSize,
    work_mem: tuning.workMem,
    maintenance_work_mem: tuning.maintenanceWorkMem,
    max_connections: String(tuning.maxConnections),
  };
  return {
    name: 'postgres',
    purpose: 'PostgreSQL, reachable only from the backend network',
    image: IMAGES.postgres,
    command: ['postgres', ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
    publishedPorts: [],
    ports: [],
    networks: NETWORK_MEMBERSHIP.postgres,
    // The owner's password initialises the data directory; the backend's, its own role (app-role.sql).
    secrets: ['db_owner_password', 'db_password'],
    environment: [
      { name: 'POSTGRES_DB', value: answers.dbName },
      { name: 'POSTGRES_USER', value: DB_OWNER_ROLE },
      { name: 'POSTGRES_PASSWORD_FILE', value: secretMountPath('db_owner_password') },
      { name: 'APP_DB_USER', value: answers.dbUser },
    ],
    volumes: [
      `postgres_data:${DATA_DIRECTORIES.postgres}`,
      `./${POSTGRES_ROLES_SCRIPT}:${POSTGRES_ROLES_SCRIPT_MOUNT}:ro`,
    ],
    dependsOn: [],
    healthcheck: {
      // TCP on 127.0.0.1, not the socket: during first-run initialisation the image runs a
      // temporary server on the socket only, which must not count as ready.
      test: [
        'CMD',
        'pg_isready',
        '--host=127.0.0.1',
        '--port=5432',
        `--username=${answers.dbUser}`,
        `--dbname=${answers.dbName}`,
      ],
      ...HEALTH_TIMING,
      startPeriod: '30s',
    },
    memoryLimit: answers.memory.postgres.text,
    shmSize: tuning.shmSize,
    // Started as its own user, the image's entrypoint skips the root-only chown and privilege
    // drop, so no capability is needed. The data volume takes the image's ownership of
    // /var/lib/postgresql/data (postgres) when Compose creates it.
    hardening: {
      user: IMAGE_USERS.postgres,
      capAdd: [],
      tmpfs: ['/tmp', '/var/run/postgresql'].map((target) => tmpfsMount(target, answers.memory.postgres.bytes)),
      pidsLimit: tuning.maxConnections + 50,
    },
  };
}

function redisService(answers: Answers): ServiceModel {
  return {
    name: 'redis',
    purpose: 'Redis with a password, reachable only from the backend network',
    image: IMAGES.redis,
    command: [
      'redis-server',
      '--aclfile',
      secretMountPath('redis_acl'),
      '--appendonly',
      'yes',
      '--maxmemory',
      redisSettings(answers.memory.redis.bytes).maxmemory,
      '--maxmemory-policy',
      redisSettings(answers.memory.redis.bytes).maxmemoryPolicy,
    ],
    publishedPorts: [],
    ports: [],
    networks: NETWORK_MEMBERSHIP.redis,
    // The ACL holds only hashes; the healthcheck's own password may only PING (redis-acl.ts).
    secrets: ['redis_acl', 'redis_healthcheck_password'],
    environment: [],
    volumes: [`redis_data:${DATA_DIRECTORIES.redis}`],
    dependsOn: [],
    healthcheck: {
      // An unauthenticated PING answers NOAUTH with exit code 0, so require PONG. --askpass reads
      // the password from stdin: it never appears in argv or in the environment.
      test: [
        'CMD-SHELL',
        `redis-cli --user ${REDIS_HEALTHCHECK_USER} --askpass ping < ${secretMountPath('redis_healthcheck_password')} | grep -qx PONG`,
      ],
      ...HEALTH_TIMING,
      startPeriod: '10s',
    },
    memoryLimit: answers.memory.redis.text,
    hardening: {
      user: IMAGE_USERS.redis,
      capAdd: [],
      tmpfs: [tmpfsMount('/tmp', answers.memory.redis.bytes)],
      pidsLimit: 64,
    },
  };
}
