/**
 * The Docker Swarm target: the ComposeModel turned into what `docker stack deploy` accepts as it
 * stands and what a swarm enforces, measured on Docker Engine 20.10 (stack file format 3.9):
 *
 * - stack deploy ignores `build`, `restart`, `depends_on`, `security_opt` and `container_name`,
 *   refuses `pids_limit`, `shm_size` and a top-level `name`, and does not apply the short `tmpfs:`
 *   list; so none of them is written, and what they did is done another way or listed as not
 *   enforced (SwarmEnforcement).
 * - The kernel may have no IPVS: every service resolves by DNS round robin (`endpoint_mode:
 *   dnsrr`), which cannot be combined with ingress publishing, so nginx publishes in host mode.
 * - Nothing orders start-up: nginx resolves the backend per request (NginxUpstream "resolved").
 *
 * Only types come from model.ts: model.ts calls buildSwarmModel, so a value import would be a cycle.
 */
import type { RestartPolicy } from '../answers/types.js';
import { formatMebibytes, parseMemorySize } from '../answers/memory-size.js';
import type {
  AddedCapability,
  Healthcheck,
  NetworkModel,
  NginxUpstream,
  SecretModel,
  ServiceModel,
  ServiceName,
  ComposeModel,
  VolumeModel,
} from './model.js';
import {
  NGINX_CONFIG,
  POSTGRES_ROLES_SCRIPT,
  POSTGRES_ROLES_SCRIPT_MOUNT,
  SWARM_NGINX_CONFIG,
} from './repository-paths.js';
import type { TmpfsMount } from './tuning.js';

/** The newest stack file format Docker Engine 20.10's schema knows. */
export const STACK_FILE_VERSION = '3.9';
/** Node label that marks the node holding the data stores and their volumes. */
export const DATA_NODE_LABEL = 'secure-stack.data';
/** Swarm's embedded DNS server, inside every task's network namespace. */
export const SWARM_DNS = '127.0.0.11';
/** The stack's backend image: set it to roll out a new build (`BACKEND_IMAGE=shop-backend:v2 docker stack deploy ...`). */
export const BACKEND_IMAGE_VARIABLE = 'BACKEND_IMAGE';

const BACKEND: ServiceName = 'backend';

export interface HostPort {
  target: number;
  published: number;
  protocol: 'tcp';
  /** Bound on the node running the task; ingress publishing needs the routing mesh (IPVS). */
  mode: 'host';
}

export interface UpdatePolicy {
  parallelism: number;
  delay: string;
  /** start-first only where two tasks may run side by side; see updateOrder. */
  order: 'start-first' | 'stop-first';
  failureAction: 'rollback';
  /** How long a new task must stay up (and healthy) before the update counts it a success. */
  monitor: string;
}

export interface RollbackPolicy {
  parallelism: number;
  order: 'start-first' | 'stop-first';
}

export type SwarmRestartCondition = 'none' | 'on-failure' | 'any';

export interface SwarmDeploy {
  replicas: number;
  endpointMode: 'dnsrr';
  placement: { constraints: string[]; preferences: { spread: string }[] };
  /** Why the service is placed where it is, for the stack file's comment. */
  placementReason: string;
  resources: {
    limits: { memory: string; cpus?: string };
    /**
     * The memory limit reserved too, so the scheduler never puts more on a node than it holds.
     * CPU is not reserved: too little CPU slows a service, too little memory gets it killed.
     */
    reservations: { memory: string };
  };
  restartPolicy: { condition: SwarmRestartCondition; delay: string };
  updateConfig: UpdatePolicy;
  rollbackConfig: RollbackPolicy;
}

export interface SwarmService {
  name: ServiceName;
  purpose: string;
  image: string;
  command?: string[];
  user?: string;
  /** cap_drop is always ALL; these are added back, each with its reason. */
  capAdd: AddedCapability[];
  ports: HostPort[];
  networks: ServiceModel['networks'];
  secrets: ServiceModel['secrets'];
  /** Secrets a stack file can mount narrower than Swarm's 0444 (long syntax; uid and gid stay 0). */
  secretModes: Partial<Record<ServiceModel['secrets'][number], number>>;
  environment: ServiceModel['environment'];
  /** Short syntax: named volumes and the nginx configuration's bind mount. */
  volumes: string[];
  /** Swarm configs mounted as files (read-only, 0444). */
  configs: { source: string; target: string }[];
  tmpfs: TmpfsMount[];
  healthcheck: Healthcheck;
  /** Time from the stop signal to SIGKILL, where the default 10 s is too short. */
  stopGracePeriod?: string;
  deploy: SwarmDeploy;
}

export interface SwarmNetwork extends NetworkModel {
  driver: 'overlay';
}

/** One security measure and how each target enforces it, or why it cannot. */
export interface SwarmEnforcement {
  measure: string;
  compose: string;
  swarm: string;
  /** False where the swarm cannot enforce it from the stack file. */
  enforcedBySwarm: boolean;
}

export interface SwarmMemoryRow {
  service: ServiceName;
  replicas: number;
  perReplica: string;
  total: string;
}

export interface SwarmStackModel {
  version: typeof STACK_FILE_VERSION;
  backendReplicas: number;
  /** How long a stopping backend replica serves on (backend/serve.sh). */
  drainSeconds: number;
  dataNodeLabel: string;
  nginxConfig: string;
  nginxUpstream: NginxUpstream;
  services: SwarmService[];
  networks: SwarmNetwork[];
  secrets: SecretModel[];
  /** Top-level configs: each a file of the repository. */
  configs: { name: string; file: string }[];
  volumes: VolumeModel[];
  logging: ComposeModel['logging'];
  memory: {
    rows: SwarmMemoryRow[];
    /** Every replica's budget. */
    total: string;
    /** With one more backend task, which a start-first rolling update runs for a while. */
    duringUpdate: string;
  };
  enforcement: SwarmEnforcement[];
}

/** Compose's restart answers in Swarm's terms: Swarm has no "unless stopped" (a removed service stays removed). */
export const SWARM_RESTART_CONDITIONS: Record<RestartPolicy, SwarmRestartCondition> = {
  no: 'none',
  always: 'any',
  'unless-stopped': 'any',
  'on-failure': 'on-failure',
};

const RESTART_DELAY = '5s';

/**
 * A stopping backend replica keeps serving this long before gunicorn closes its socket
 * (backend/serve.sh): Docker's DNS still lists it for a moment, and nginx caches the answer for
 * its `valid` time, so requests keep arriving. Measured on Docker 20.10: see test/e2e/swarm.test.ts.
 */
export const BACKEND_DRAIN_SECONDS = 10;
/** gunicorn's graceful timeout (its default, 30 s) after the drain, and a margin, before SIGKILL. */
const GUNICORN_GRACEFUL_SECONDS = 30;
const BACKEND_STOP_GRACE_PERIOD = `${BACKEND_DRAIN_SECONDS + GUNICORN_GRACEFUL_SECONDS + 5}s`;
const UPDATE_TIMING = { parallelism: 1, delay: '5s', monitor: '20s' } as const;

/**
 * start-first needs room for two tasks at once. The backend has it; nginx does not (a host port
 * is bound by one task only), nor do the data stores (two servers must never share a data directory).
 */
function updateOrder(name: ServiceName): 'start-first' | 'stop-first' {
  return name === BACKEND ? 'start-first' : 'stop-first';
}

/** Where each service runs, and why. */
function placement(name: ServiceName): { constraints: string[]; preferences: { spread: string }[]; reason: string } {
  switch (name) {
    case 'nginx':
      return {
        constraints: ['node.role == manager'],
        preferences: [],
        reason:
          'on a manager: its host-mode port is where DNS points, and its configuration is a bind mount from this repository there',
      };
    case 'backend':
      return { constraints: [], preferences: [{ spread: 'node.id' }], reason: 'replicas spread over the nodes' };
    default:
      return {
        constraints: [`node.labels.${DATA_NODE_LABEL} == true`],
        preferences: [],
        reason: `one replica on the node labelled ${DATA_NODE_LABEL}=true, where its local volume lives`,
      };
  }
}

/**
 * The writable tmpfs mounts, sized as in Compose (tuning.ts), plus /dev/shm: PostgreSQL's
 * dynamic shared memory gets the size Compose's shm_size gives it (stack files have no shm_size,
 * and a mount there replaces Docker's default 64m /dev/shm).
 */
export function tmpfsMounts(service: ServiceModel): TmpfsMount[] {
  const mounts = [...service.hardening.tmpfs];
  if (service.shmSize !== undefined) {
    const sizeBytes = bytesOf(service.shmSize);
    mounts.push({ target: '/dev/shm', sizeBytes, size: formatMebibytes(sizeBytes) });
  }
  return mounts;
}

function bytesOf(size: string): number {
  const parsed = parseMemorySize(size);
  if (!parsed) throw new Error(`not a memory size: ${size}`);
  return parsed.bytes;
}

/** The nginx configuration's bind mount points at the Swarm rendering of it; the roles script becomes a config. */
function swarmVolumes(service: ServiceModel): string[] {
  const composeSource = `./${NGINX_CONFIG}:`;
  return service.volumes
    .filter((volume) => !volume.startsWith(`./${POSTGRES_ROLES_SCRIPT}:`))
    .map((volume) =>
      volume.startsWith(composeSource) ? `./${SWARM_NGINX_CONFIG}:${volume.slice(composeSource.length)}` : volume,
    );
}

/** PostgreSQL's roles script, as a Swarm config: the data node may not hold the repository. */
const POSTGRES_ROLES_CONFIG = 'postgres_roles';

function swarmConfigs(service: ServiceModel): { source: string; target: string }[] {
  return service.volumes.some((volume) => volume.startsWith(`./${POSTGRES_ROLES_SCRIPT}:`))
    ? [{ source: POSTGRES_ROLES_CONFIG, target: POSTGRES_ROLES_SCRIPT_MOUNT }]
    : [];
}

function swarmService(model: ComposeModel, service: ServiceModel, replicas: number): SwarmService {
  const where = placement(service.name);
  const order = updateOrder(service.name);
  return {
    name: service.name,
    purpose: service.purpose,
    // Built images reach the nodes by name (no registry): the variable names a new build to roll out.
    image: service.build === undefined ? service.image : `\${${BACKEND_IMAGE_VARIABLE}:-${service.image}}`,
    command: service.command,
    user: service.hardening.user,
    // A Swarm secret is a copy owned by root (mode set below): root reads it without overriding.
    capAdd: service.hardening.capAdd.filter((added) => !added.forFileSecrets),
    ports: service.publishedPorts.map((port) => ({
      target: port.containerPort,
      published: port.hostPort,
      protocol: 'tcp',
      mode: 'host',
    })),
    networks: service.networks,
    secrets: service.secrets,
    // Only nginx's master, as root, reads the TLS key; its workers cannot.
    secretModes: service.secrets.includes('tls_key') ? { tls_key: 0o400 } : {},
    environment:
      service.name === BACKEND
        ? [...service.environment, { name: 'DRAIN_SECONDS', value: String(BACKEND_DRAIN_SECONDS) }]
        : service.environment,
    volumes: swarmVolumes(service),
    configs: swarmConfigs(service),
    tmpfs: tmpfsMounts(service),
    healthcheck: service.healthcheck,
    ...(service.name === BACKEND ? { stopGracePeriod: BACKEND_STOP_GRACE_PERIOD } : {}),
    deploy: {
      replicas,
      endpointMode: 'dnsrr',
      placement: { constraints: where.constraints, preferences: where.preferences },
      placementReason: where.reason,
      resources: {
        limits: { memory: service.memoryLimit, ...(service.cpuLimit === undefined ? {} : { cpus: service.cpuLimit }) },
        reservations: { memory: service.memoryLimit },
      },
      restartPolicy: { condition: SWARM_RESTART_CONDITIONS[model.restartPolicy], delay: RESTART_DELAY },
      updateConfig: { ...UPDATE_TIMING, order, failureAction: 'rollback' },
      rollbackConfig: { parallelism: UPDATE_TIMING.parallelism, order },
    },
  };
}

function memoryCost(services: readonly SwarmService[]): SwarmStackModel['memory'] {
  const rows = services.map((service) => {
    const perReplica = bytesOf(service.deploy.resources.limits.memory);
    return {
      service: service.name,
      replicas: service.deploy.replicas,
      perReplica,
      totalBytes: perReplica * service.deploy.replicas,
    };
  });
  const total = rows.reduce((sum, row) => sum + row.totalBytes, 0);
  const backend = rows.find((row) => row.service === BACKEND)!;
  return {
    rows: rows.map((row) => ({
      service: row.service,
      replicas: row.replicas,
      perReplica: formatMebibytes(row.perReplica),
      total: formatMebibytes(row.totalBytes),
    })),
    total: formatMebibytes(total),
    duringUpdate: formatMebibytes(total + backend.perReplica),
  };
}

/** Each measure of the stack's Security section, on Compose and on Swarm. */
export function swarmEnforcement(model: ComposeModel, services: readonly SwarmService[]): SwarmEnforcement[] {
  const restart = SWARM_RESTART_CONDITIONS[model.restartPolicy];
  const listed = (mounts: { service: string; mount: TmpfsMount }[]) =>
    mounts.map(({ service, mount }) => `${service} ${mount.target} ${mount.size}`).join(', ');
  const tmpfs = listed(services.flatMap((service) => service.tmpfs.map((mount) => ({ service: service.name, mount }))));
  const composeTmpfs = listed(
    model.services.flatMap((service) => service.hardening.tmpfs.map((mount) => ({ service: service.name, mount }))),
  );
  const users = model.services
    .filter((service) => service.hardening.user)
    .map((service) => service.name)
    .join(', ');
  const addedBack = (list: readonly { name: string; capAdd: readonly AddedCapability[] }[]) =>
    list
      .filter((service) => service.capAdd.length > 0)
      .map((service) => `${service.name} adds back ${service.capAdd.map((cap) => cap.capability).join(', ')}`)
      .join('; ');
  const added = addedBack(model.services.map((service) => ({ name: service.name, capAdd: service.hardening.capAdd })));
  // Swarm's own list: it needs no DAC_OVERRIDE for the TLS key, root's own copy there.
  const addedOnSwarm = addedBack(services);
  const sameOnBoth = addedOnSwarm === added;
  const capabilitiesAdded = sameOnBoth ? added : `Compose: ${added}; Swarm: ${addedOnSwarm || 'none'}`;
  const row = (measure: string, compose: string, swarm: string, enforcedBySwarm = true): SwarmEnforcement => ({
    measure,
    compose,
    swarm,
    enforcedBySwarm,
  });
  return [
    row(
      'Data stores on a network with no route out',
      '`internal: true` bridge network',
      '`internal: true` overlay network',
    ),
    row(
      'Only nginx publishes a port',
      '`ports` on nginx only, on the answered bind address',
      'host-mode `ports` on nginx only, on the manager node it runs on, on every address of that node (a Swarm port has no bind address, so `swarm` requires `bindAddress: "*"`)',
    ),
    row(
      'Each service only its own secrets, read through `*_FILE`',
      'Compose secrets from `secrets/`, granted per service',
      "Swarm secrets from the same files (encrypted in the managers' Raft log, on tmpfs in the tasks), granted per service the same way",
    ),
    row(
      'Memory limits',
      '`deploy.resources.limits.memory` per container',
      'the same limit per replica, and reserved as well, so the scheduler never overcommits a node',
    ),
    row('Read-only root filesystems', '`read_only: true`', '`read_only: true`'),
    row(
      'Writable paths as sized tmpfs',
      `\`tmpfs:\` list with \`size=\`: ${composeTmpfs}`,
      `\`type: tmpfs\` mounts with the same sizes (stack deploy does not apply the short list), and /dev/shm: ${tmpfs}`,
    ),
    row(
      `All capabilities dropped${added ? ` (${capabilitiesAdded})` : ''}`,
      '`cap_drop: [ALL]`, `cap_add`',
      '`cap_drop: [ALL]`, `cap_add` (honoured by stack deploy from Docker 20.10)',
    ),
    row(`Non-root users: ${users}`, '`user:`', '`user:`'),
    row(
      'Healthchecks that can fail',
      '`healthcheck`; `depends_on` waits for healthy',
      "`healthcheck`; a task counts as running only once healthy, which gates rolling updates. Nothing orders start-up (`depends_on` is ignored): nginx resolves the backend per request, and the backend's `/health/` answers 503 until its data stores answer",
    ),
    row(
      'Restart policy',
      `\`restart: ${model.restartPolicy}\``,
      `\`restart_policy: {condition: ${restart}, delay: ${RESTART_DELAY}}\``,
    ),
    row(
      '`no-new-privileges`',
      '`security_opt: [no-new-privileges:true]` per container',
      'Swarm ignores `security_opt`: enforce it daemon-wide with `"no-new-privileges": true` in `/etc/docker/daemon.json` on every node; `secure-stack verify --engine swarm` checks it in each task on its node',
      false,
    ),
    row(
      'Process (pids) limits',
      '`pids_limit` per container',
      "Docker 20.10's stack schema refuses `pids_limit` and has no `deploy.resources.limits.pids`, so none is set (Docker 23 and later have it: add it there by hand); the memory limit still bounds a fork bomb",
      false,
    ),
    row(
      'Traffic between services',
      'stays on one host',
      'overlay traffic between nodes is not encrypted: add `driver_opts: {encrypted: "true"}` to the networks where every node\'s kernel has IPsec (ESP)',
      false,
    ),
    row(
      'Log rotation',
      `json-file, ${model.logging.maxSize} x ${model.logging.maxFiles}`,
      `json-file, ${model.logging.maxSize} x ${model.logging.maxFiles}, on each node`,
    ),
  ];
}

/** The ComposeModel as a Swarm stack with `backendReplicas` backends. */
export function buildSwarmModel(model: ComposeModel, backendReplicas: number): SwarmStackModel {
  const services = model.services.map((service) =>
    swarmService(model, service, service.name === BACKEND ? backendReplicas : 1),
  );
  return {
    version: STACK_FILE_VERSION,
    backendReplicas,
    drainSeconds: BACKEND_DRAIN_SECONDS,
    dataNodeLabel: DATA_NODE_LABEL,
    nginxConfig: SWARM_NGINX_CONFIG,
    nginxUpstream: {
      kind: 'resolved',
      resolver: SWARM_DNS,
      // Short: a replica that is gone stops getting requests within seconds; a new one starts getting them.
      valid: '5s',
      variable: '$backend_upstream',
      // The service name: with endpoint_mode dnsrr Docker's DNS answers one address per healthy task.
      url: `http://${BACKEND}:${model.backendPort}`,
      proxyPass: '$backend_upstream',
    },
    services,
    networks: model.networks.map((network) => ({ ...network, driver: 'overlay' })),
    secrets: model.secrets,
    configs: services.some((service) => service.configs.length > 0)
      ? [{ name: POSTGRES_ROLES_CONFIG, file: `./${POSTGRES_ROLES_SCRIPT}` }]
      : [],
    volumes: model.volumes,
    logging: model.logging,
    memory: memoryCost(services),
    enforcement: swarmEnforcement(model, services),
  };
}
