import type { MemorySize } from './memory-size.js';
import type { Route } from './routes.js';

export type BudgetedService = 'nginx' | 'backend' | 'postgres' | 'redis';

export const RESTART_POLICIES = ['unless-stopped', 'always', 'on-failure', 'no'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
export const TLS_MODES = ['off', 'self-signed', 'provided'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
/** bindAddress meaning every interface, IPv4 and IPv6 (Compose's default when no address is given). */
export const ALL_INTERFACES = '*';

/** The one validated value every later step (model, templates, stored config) works from. */
export interface Answers {
  projectName: string;
  dbName: string;
  dbUser: string;
  serverName: string;
  httpPort: number;
  redis: boolean;
  restart: RestartPolicy;
  /** "*" for all interfaces, else one IPv4 or IPv6 address. */
  bindAddress: string;
  /** Requests per second per client address on the proxied routes. */
  rateLimit: number;
  tls: TlsMode;
  tlsCert: string | null;
  tlsKey: string | null;
  httpsPort: number;
  /** HSTS with includeSubDomains and preload (tls "provided" only): a commitment that is slow to undo. */
  hstsPreload: boolean;
  memory: Record<BudgetedService, MemorySize>;
  /** CPU limits in CPUs; null: no limit. */
  cpus: Record<BudgetedService, number | null>;
  /** Largest request body nginx accepts; it must fit nginx's /tmp, where nginx buffers it. */
  maxBodySize: MemorySize;
  /** The backend's /health/ on the published ports too; otherwise on nginx's loopback listener only. */
  publicHealth: boolean;
  routes: Route[];
  /** Also write the Docker Swarm target (stack.yaml, nginx/nginx.swarm.conf). */
  swarm: boolean;
  /** Backend replicas on Swarm; Compose runs one. */
  backendReplicas: number;
}

/** JSON shape of answers as written in an answers file and in `.yo-rc.json`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type StoredAnswers = { [key: string]: JsonValue };
