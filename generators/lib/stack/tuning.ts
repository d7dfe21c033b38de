/**
 * Memory budgets turned into server settings, so each server stays inside its container limit
 * instead of being killed by the kernel's OOM killer under load. All sizes in bytes in, server
 * notation out. The ratios follow each project's own sizing advice (cited per function).
 */
import { formatMebibytes, type MemorySize } from '../answers/memory-size.js';

const MiB = 1024 ** 2;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const mebibytes = (bytes: number) => Math.floor(bytes / MiB);

export interface PostgresSettings {
  sharedBuffers: string;
  effectiveCacheSize: string;
  workMem: string;
  maintenanceWorkMem: string;
  maxConnections: number;
  /** Size of /dev/shm, where PostgreSQL keeps dynamic shared memory for parallel queries. */
  shmSize: string;
}

/**
 * PostgreSQL docs ("Resource Consumption"): shared_buffers about 25% of memory on a dedicated
 * server; effective_cache_size is a planner hint (no allocation), 50% here. work_mem is per sort
 * or hash per connection, so it is what remains divided over connections, with headroom.
 */
export function postgresSettings(limitBytes: number): PostgresSettings {
  const limit = mebibytes(limitBytes);
  const sharedBuffers = Math.max(16, Math.floor(limit / 4));
  const maxConnections = clamp(Math.floor(limit / 10), 20, 200);
  const workMem = Math.max(1, Math.floor((limit - sharedBuffers) / (maxConnections * 4)));
  return {
    sharedBuffers: `${sharedBuffers}MB`,
    effectiveCacheSize: `${Math.floor(limit / 2)}MB`,
    workMem: `${workMem}MB`,
    maintenanceWorkMem: `${clamp(Math.floor(limit / 16), 4, 1024)}MB`,
    maxConnections,
    shmSize: `${clamp(Math.floor(limit / 4), 64, 2048)}m`,
  };
}

export interface RedisSettings {
  maxmemory: string;
  maxmemoryPolicy: 'allkeys-lru';
}

/**
 * Redis counts only its dataset against maxmemory; replication and AOF buffers, fragmentation and
 * the process itself come on top, so Redis' docs advise headroom: 75% of the container limit.
 * allkeys-lru: the stack uses Redis as a cache; at the limit the least recently used key goes.
 */
export function redisSettings(limitBytes: number): RedisSettings {
  return { maxmemory: `${mebibytes(Math.floor(limitBytes * 0.75))}mb`, maxmemoryPolicy: 'allkeys-lru' };
}

/**
 * gunicorn workers are separate processes of about 40–60 MiB each for a small Django app, plus the
 * arbiter; budget 96 MiB a worker after 64 MiB for the arbiter and interpreter, 1 to 8 workers.
 */
export function gunicornWorkers(limitBytes: number): number {
  return clamp(Math.floor((mebibytes(limitBytes) - 64) / 96), 1, 8);
}

/**
 * Threads per gunicorn worker (gthread workers keep connections alive, so nginx's upstream
 * keepalive works). Two: one thread can wait on PostgreSQL or Redis while the other runs Python.
 * More threads in one process mostly contend for the GIL: with four, the example stack served
 * 15-25% fewer requests per second on `npm run bench` than with two.
 */
export const GUNICORN_THREADS = 2;

/**
 * Idle keep-alive connections: nginx must drop one before gunicorn does. When gunicorn closes a
 * connection just as nginx reuses it, a request nginx cannot retry (a POST) fails with 502;
 * gunicorn's own default (2 s) is far below nginx's (60 s). So gunicorn keeps idle connections
 * 5 s (`--keep-alive`) and nginx's upstream 4 s (`keepalive_timeout`): nginx always closes first,
 * and a connection idle for longer than that costs one new handshake.
 */
export const GUNICORN_KEEPALIVE_SECONDS = 5;
export const UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS = 4;

export interface NginxSettings {
  workerProcesses: number;
  workerConnections: number;
  upstreamKeepalive: number;
}

/**
 * `worker_processes auto` starts one worker per host CPU, which on a large host overruns a small
 * limit; each worker costs a few MiB, so one per 32 MiB of budget, 1 to 4. Connections are cheap
 * (a few hundred bytes each) but bounded by the same budget.
 */
export function nginxSettings(limitBytes: number): NginxSettings {
  const limit = mebibytes(limitBytes);
  const workerProcesses = clamp(Math.floor(limit / 32), 1, 4);
  return {
    workerProcesses,
    workerConnections: clamp(limit * 32, 512, 4096),
    upstreamKeepalive: clamp(workerProcesses * 16, 16, 64),
  };
}

/** A writable tmpfs on a read-only root, with its size. */
export interface TmpfsMount {
  target: string;
  /** Bytes: the stack file's 3.9 schema takes tmpfs sizes as integers only. */
  sizeBytes: number;
  /** The same size in Compose notation (`12m`). */
  size: string;
}

/** PostgreSQL's socket directory holds a socket and a lock file. */
const SOCKET_DIRECTORY = '/var/run/postgresql';

/**
 * tmpfs pages count against the container's memory limit, and an unsized tmpfs may grow to half
 * the host's memory: whatever fills it (nginx's temporary files of request bodies, an upload to
 * Django) would push the service over its limit. So each is sized: a scratch directory at a
 * quarter of the budget, at least 1m and at most 64m; the socket directory 1m.
 */
export function tmpfsMount(target: string, limitBytes: number): TmpfsMount {
  const sizeBytes = target === SOCKET_DIRECTORY ? MiB : clamp(Math.floor(limitBytes / 4 / MiB), 1, 64) * MiB;
  return { target, sizeBytes, size: formatMebibytes(sizeBytes) };
}

/** What one client can make nginx hold: connections, request bodies, buffered responses. */
export interface EntryLimits {
  /** client_max_body_size: the maxBodySize answer. */
  maxBodySize: string;
  /** client_body_buffer_size: a body up to this stays in memory, a larger one goes to /tmp. */
  clientBodyBufferSize: string;
  /** proxy_max_temp_file_size: a response beyond nginx's buffers goes to /tmp up to this. */
  proxyMaxTempFileSize: string;
  /** limit_conn: connections one client address may hold at once. */
  connectionsPerClient: number;
  /** Requests with a body nginx writes to /tmp that one client address may have at once. */
  largeBodiesPerClient: number;
  /** Content-Length values (a regex for nginx's map) of bodies above the memory buffer: 17000 bytes and up. */
  largeBodyLength: string;
}

/**
 * nginx's /tmp is a tmpfs of a quarter of its budget (tmpfsMount): a body is buffered there
 * (maxBodySize fits it, the answers check that), and one slow reader's response may take a
 * quarter of it, beyond which nginx reads from the backend only as fast as the client takes it.
 * A client may have as many large bodies (above the 16k memory buffer) in flight as /tmp holds
 * largest ones, at least one, so that it cannot fill /tmp for every other client; a body sent
 * without a length (chunked) is not counted, and is still bounded by client_max_body_size.
 * Connections per client: twice the rate limit's burst (the burst in flight, and as many idle
 * keep-alive connections), at least 10 (browsers open 6 per host), at most an eighth of nginx's
 * connections, so that no few clients can hold them all.
 */
/** The largest limit_conn nginx accepts ("connection limit must be less 65536"). */
export const LIMIT_CONN_MAX = 65_535;

export function entryLimits(nginxBudgetBytes: number, maxBody: MemorySize, burst: number): EntryLimits {
  const scratch = tmpfsMount('/tmp', nginxBudgetBytes).sizeBytes;
  const { workerProcesses, workerConnections } = nginxSettings(nginxBudgetBytes);
  // At most an eighth of all nginx's connections (2048 at the most): far below the 65535 nginx
  // allows a limit_conn, which largeBodiesPerClient is kept under by this bound too.
  const connectionsPerClient = clamp(burst * 2, 10, Math.floor((workerProcesses * workerConnections) / 8));
  return {
    // nginx sizes take k, m or g, and plain bytes without a unit.
    maxBodySize: maxBody.text.replace(/b$/, ''),
    clientBodyBufferSize: '16k',
    proxyMaxTempFileSize: `${Math.floor(scratch / 4 / 1024)}k`,
    connectionsPerClient,
    // As many largest bodies as /tmp holds, at least one: one client cannot fill /tmp for all
    // (and never more than it may have connections).
    largeBodiesPerClient: clamp(Math.floor(scratch / maxBody.bytes), 1, connectionsPerClient),
    largeBodyLength: '^(?:1[7-9][0-9]{3}|[2-9][0-9]{4}|[1-9][0-9]{5,})$',
  };
}
