/**
 * What `verify` expects of a running stack, read from the repository: compose.yaml (services,
 * their secrets, networks, dependencies, the published port) and .yo-rc.json (serverName, routes:
 * the answers, so that an nginx.conf that drifted from them is caught rather than trusted).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { parseMemorySize } from '../generators/lib/answers/memory-size.js';
import { GENERATOR_KEY, NGINX_HTTP_PORT, NGINX_HTTPS_PORT, STORED_CONFIG_FILE } from '../generators/lib/contract.js';

export interface ExpectedService {
  name: string;
  secrets: string[];
  networks: string[];
  dependsOn: string[];
  user?: string;
  hasHealthcheck: boolean;
}

export interface ExpectedStack {
  directory: string;
  project: string;
  serverName: string;
  routes: string[];
  dbName: string;
  dbUser: string;
  /** Host port nginx publishes for plain HTTP, and the address it is bound to on the host. */
  httpPort: number;
  httpBindAddress: string;
  /** With TLS on: the host port of nginx's HTTPS listener and the certificate to trust for it. */
  https?: { port: number; certificateFile: string };
  services: Record<string, ExpectedService>;
  /** Secret name -> absolute path of its file on the host. */
  secretFiles: Record<string, string>;
  /** Networks declared internal: true. */
  internalNetworks: string[];
  composeText: string;
  /** stack.yaml (the Swarm target), when the repository has one. */
  stackText?: string;
  /** Backend replicas a swarm must run (the backendReplicas answer; Compose runs one). */
  backendReplicas: number;
  /** Largest request body nginx must accept, in bytes (the maxBodySize answer; 10m before it existed). */
  maxBodyBytes: number;
  /** The backend's /health/ on the published ports too (the publicHealth answer; loopback only without it). */
  publicHealth: boolean;
}

type Json = Record<string, unknown>;

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function names(value: unknown): string[] {
  if (Array.isArray(value))
    return value.map((entry) => (typeof entry === 'string' ? entry : String(object(entry)['source'] ?? '')));
  return Object.keys(object(value));
}

export function readExpectedStack(directory: string): ExpectedStack {
  const composePath = join(directory, 'compose.yaml');
  if (!existsSync(composePath)) throw new Error(`${composePath} not found: run verify in a generated repository`);
  const composeText = readFileSync(composePath, 'utf8');
  const compose = object(parse(composeText));
  const project = String(compose['name'] ?? '');
  if (!project) throw new Error('compose.yaml has no "name"');

  const rcPath = join(directory, STORED_CONFIG_FILE);
  const answers = existsSync(rcPath) ? object(object(JSON.parse(readFileSync(rcPath, 'utf8')))[GENERATOR_KEY]) : {};
  const routes = (Array.isArray(answers['routes']) ? answers['routes'] : []).map((route) =>
    typeof route === 'string' ? route : String(object(route)['path']),
  );

  const services: Record<string, ExpectedService> = {};
  for (const [name, raw] of Object.entries(object(compose['services']))) {
    const service = object(raw);
    services[name] = {
      name,
      secrets: names(service['secrets']),
      networks: names(service['networks']),
      dependsOn: names(service['depends_on']),
      user: typeof service['user'] === 'string' ? service['user'] : undefined,
      hasHealthcheck: service['healthcheck'] !== undefined,
    };
  }

  const internalNetworks = Object.entries(object(compose['networks']))
    .filter(([, raw]) => object(raw)['internal'] === true)
    .map(([name]) => name);

  const secretFiles: Record<string, string> = {};
  for (const [name, raw] of Object.entries(object(compose['secrets']))) {
    const file = String(object(raw)['file'] ?? '');
    if (file) secretFiles[name] = isAbsolute(file) ? file : join(directory, file);
  }

  const nginx = object(object(compose['services'])['nginx']);
  const ports = (Array.isArray(nginx['ports']) ? nginx['ports'] : []).map(String);
  const httpMapping =
    ports.map(parsePort).find((port) => port?.container === NGINX_HTTP_PORT) ?? ports.map(parsePort)[0];
  if (!httpMapping) throw new Error('compose.yaml: nginx publishes no port');
  const httpsMapping = ports.map(parsePort).find((port) => port?.container === NGINX_HTTPS_PORT);
  const tls = answers['tls'] !== undefined && answers['tls'] !== 'off' && answers['tls'] !== false;
  const certificateFile = secretFiles['tls_cert'];
  if (tls && (!httpsMapping || !certificateFile))
    throw new Error('.yo-rc.json turns TLS on but compose.yaml publishes no HTTPS port or has no tls_cert secret');

  const serverName = String(answers['serverName'] ?? 'localhost');
  return {
    directory,
    project,
    serverName,
    routes,
    dbName: String(answers['dbName'] ?? environmentOf(compose, 'postgres', 'POSTGRES_DB') ?? ''),
    dbUser: String(answers['dbUser'] ?? environmentOf(compose, 'postgres', 'POSTGRES_USER') ?? ''),
    httpPort: httpMapping.host,
    httpBindAddress: httpMapping.address,
    https: tls && httpsMapping && certificateFile ? { port: httpsMapping.host, certificateFile } : undefined,
    services,
    secretFiles,
    internalNetworks,
    composeText,
    stackText: existsSync(join(directory, 'stack.yaml'))
      ? readFileSync(join(directory, 'stack.yaml'), 'utf8')
      : undefined,
    backendReplicas: backendReplicasOf(directory, answers),
    publicHealth: answers['publicHealth'] === true,
    maxBodyBytes:
      parseMemorySize(typeof answers['maxBodySize'] === 'string' ? answers['maxBodySize'] : '10m')?.bytes ??
      10 * 1024 ** 2,
  };
}

/** What stack.yaml asks of the backend (a kept edit wins over the answer), else the answer, else 1. */
function backendReplicasOf(directory: string, answers: Json): number {
  const path = join(directory, 'stack.yaml');
  const replicas = existsSync(path)
    ? object(object(object(object(parse(readFileSync(path, 'utf8')))['services'])['backend'])['deploy'])['replicas']
    : undefined;
  if (typeof replicas === 'number') return replicas;
  return typeof answers['backendReplicas'] === 'number' ? answers['backendReplicas'] : 1;
}

function environmentOf(compose: Json, service: string, variable: string): string | undefined {
  const environment = object(object(object(compose['services'])[service])['environment']);
  const value = environment[variable];
  return value === undefined ? undefined : String(value);
}

/** "8080:8080", "127.0.0.1:8080:8080", "8080:8080/tcp". */
export function parsePort(text: string): { address: string; host: number; container: number } | undefined {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+):(\d+)(?:\/tcp)?$/.exec(text.trim());
  if (!match) return undefined;
  return { address: match[1] ?? '0.0.0.0', host: Number(match[2]), container: Number(match[3]) };
}

/** The values a secret must never be seen as: the whole trimmed file and each long token of it. */
export function secretNeedles(expected: ExpectedStack): { secret: string; needles: string[] }[] {
  return Object.entries(expected.secretFiles).map(([secret, path]) => {
    const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
    const tokens = text.split(/[\s#>]+/).filter((token) => token.length >= 16 && !token.startsWith('-----'));
    const needles = [...new Set([text, ...tokens].filter((needle) => needle.length >= 8))];
    return { secret, needles };
  });
}
