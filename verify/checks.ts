/**
 * Checks a running generated stack (Docker Compose, or the e2e runner's podman) against its
 * repository. Each check group yields rows; a row that cannot be evaluated is a failure, never a
 * pass. Traffic goes only to the published port on loopback and, from inside the containers, to
 * the stack's own container addresses; names resolved are the stack's service names only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { runProcess, type ContainerInfo, type Engine } from './engine.js';
import { httpGet, httpGetPaced, type Endpoint, type HttpAnswer } from './http.js';
import {
  BACKEND_HEALTH_PATH,
  NGINX_HEALTH_PATH,
  NGINX_HEALTH_PORT,
  NGINX_HTTP_PORT,
  NGINX_HTTPS_PORT,
  SECRETS_MOUNT_DIRECTORY,
} from '../generators/lib/contract.js';
import { auditRows } from '../generators/lib/audit/audit-check.js';
import { REDIS_BACKEND_USER, REDIS_HEALTHCHECK_USER } from '../generators/lib/redis-acl.js';
import { clientUrl, followRedirects, hostHeader, redirectProblem } from './redirects.js';
import { secretNeedles, type ExpectedStack } from './stack.js';

export type CheckGroup = 'health' | 'routing' | 'isolation' | 'auth' | 'secrets' | 'persistence' | 'audit';
export const CHECK_GROUPS: readonly CheckGroup[] = [
  'health',
  'routing',
  'isolation',
  'auth',
  'secrets',
  'persistence',
  'audit',
];

export interface CheckResult {
  group: CheckGroup;
  name: string;
  ok: boolean;
  detail: string;
  /** Printed in full under the table (the audit's findings, with the allow-list's reasons). */
  lines?: string[];
}

export interface VerifyOptions {
  engine: Engine;
  expected: ExpectedStack;
  /** Groups to run (default: all but persistence unless `persistence` is set). */
  groups?: readonly CheckGroup[];
  /** Check 6 restarts the data stores: opt-in. */
  persistence?: boolean;
  /** Check 7 runs the third-party scanners (slow, and they must be installed): opt-in. */
  audit?: boolean;
  /** Removes and recreates one service keeping its named volumes, then waits until it is healthy. */
  recreate?: (service: string) => Promise<void>;
}

const DATA_STORE_PORTS: Record<string, number> = { postgres: 5432, redis: 6379 };
const SECURITY_HEADERS: Record<string, RegExp> = {
  'x-content-type-options': /^nosniff$/i,
  'x-frame-options': /^(DENY|SAMEORIGIN)$/i,
  'content-security-policy': /frame-ancestors/i,
  'referrer-policy': /./,
};
const OUTSIDE_PATH = '/secure-stack-verify-outside-routes';

type Add = (name: string, ok: boolean, detail?: string, lines?: string[]) => void;

export async function runChecks(options: VerifyOptions): Promise<CheckResult[]> {
  const optedIn = (group: CheckGroup) =>
    group === 'persistence' ? options.persistence : group === 'audit' ? options.audit : true;
  const groups = options.groups ?? CHECK_GROUPS.filter(optedIn);
  const results: CheckResult[] = [];
  for (const group of groups) {
    const add: Add = (name, ok, detail = '', lines) =>
      results.push({ group, name, ok, detail, ...(lines ? { lines } : {}) });
    try {
      await CHECKS[group](options, add);
    } catch (error) {
      add(`${group} check ran to the end`, false, (error as Error).message);
    }
  }
  return results;
}

const CHECKS: Record<CheckGroup, (options: VerifyOptions, add: Add) => Promise<void>> = {
  health: checkHealth,
  routing: checkRouting,
  isolation: checkIsolation,
  auth: checkAuthentication,
  secrets: checkSecrets,
  persistence: checkPersistence,
  audit: checkAudit,
};

async function byService(options: VerifyOptions): Promise<Map<string, ContainerInfo>> {
  const containers = await options.engine.containers(options.expected.project);
  const map = new Map<string, ContainerInfo>();
  for (const container of containers)
    if (!map.has(container.service) || container.running) map.set(container.service, container);
  return map;
}

function running(containers: Map<string, ContainerInfo>, service: string): ContainerInfo {
  const container = containers.get(service);
  if (!container) throw new Error(`no container for service ${service}`);
  if (!container.running) throw new Error(`${service} (${container.name}) is not running`);
  return container;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

// 1. Health and start order ---------------------------------------------------------------------

async function checkHealth(options: VerifyOptions, add: Add): Promise<void> {
  const containers = await byService(options);
  for (const service of Object.values(options.expected.services)) {
    const container = containers.get(service.name);
    if (!container) {
      add(
        `${service.name} has a container`,
        false,
        `no container labelled ${options.expected.project}/${service.name}`,
      );
      continue;
    }
    const last = container.healthLog.at(-1);
    const lastProbeOutput = last?.output.trim() ? `: ${last.output.trim().slice(0, 160)}` : '';
    const lastOutput = last ? ` last probe exit ${last.exitCode}${lastProbeOutput}` : '';
    const name = `${service.name} healthy by its own healthcheck`;
    const restarts = container.restartCount ? `, ${container.restartCount} restarts` : '';
    const state = `${container.running ? 'running' : 'not running'}, ${container.health}${restarts};${lastOutput}`;
    if (!service.hasHealthcheck) add(name, false, 'no healthcheck in compose.yaml');
    else add(name, container.running && container.health === 'healthy', state);
  }
  if (options.engine.isSwarm) {
    await checkSwarmReplicas(options, add);
    return;
  }
  for (const service of Object.values(options.expected.services)) {
    for (const dependency of service.dependsOn) {
      const dependent = containers.get(service.name);
      const depended = containers.get(dependency);
      const name = `${service.name} started after ${dependency} was healthy`;
      if (!dependent || !depended) {
        add(name, false, `missing container: ${!dependent ? service.name : dependency}`);
        continue;
      }
      const passes = depended.healthLog.filter((entry) => entry.exitCode === 0);
      const before = passes.find((entry) => entry.end <= dependent.startedAt);
      const earliest = depended.healthLog[0];
      if (before)
        add(
          name,
          true,
          `${dependency} passed a probe ${seconds(dependent.startedAt - before.end)} before ${service.name} started`,
        );
      else if (
        earliest &&
        earliest.start > dependent.startedAt &&
        depended.startedAt < dependent.startedAt &&
        depended.health === 'healthy'
      )
        add(
          name,
          true,
          `${dependency}'s health log no longer reaches back to ${service.name}'s start; ` +
            `it started ${seconds(dependent.startedAt - depended.startedAt)} earlier and is healthy`,
        );
      else {
        const startedAt = new Date(dependent.startedAt).toISOString();
        const restartedLater =
          depended.startedAt > dependent.startedAt
            ? ` (${dependency} was (re)started later: restart ${service.name} after it)`
            : '';
        add(
          name,
          false,
          `${service.name} started at ${startedAt}, before any passing probe of ${dependency}${restartedLater}`,
        );
      }
    }
  }
}

/**
 * On a swarm nothing orders start-up (depends_on is ignored): instead every service runs its
 * desired replicas (a task with a healthcheck counts as running only once healthy), the data
 * stores and nginx one each, and the backend as many as answered.
 */
async function checkSwarmReplicas(options: VerifyOptions, add: Add): Promise<void> {
  const { expected } = options;
  const services = new Map(
    (await options.engine.swarmServices(expected.project)).map((service) => [service.service, service]),
  );
  for (const name of Object.keys(expected.services)) {
    const service = services.get(name);
    const wanted = name === 'backend' ? expected.backendReplicas : 1;
    add(
      `${name} runs ${wanted} healthy replica${wanted === 1 ? '' : 's'} on the swarm`,
      service !== undefined && service.desired === wanted && service.running === wanted,
      service ? `${service.running}/${service.desired} running` : `no service ${expected.project}_${name}`,
    );
  }
  // Swarm ignores security_opt: no-new-privileges holds only where each node's daemon sets it.
  for (const [name, container] of await byService(options)) {
    if (!container.running) continue;
    const status = await options.engine.exec(container.id, ['cat', '/proc/1/status']);
    const flag = /^NoNewPrivs:\s*(\d)/m.exec(status.stdout)?.[1];
    add(
      `${name} runs with no_new_privs on this node (the daemon's "no-new-privileges": true)`,
      flag === '1',
      flag === undefined ? `unread: ${status.stderr.trim().slice(0, 80)}` : `NoNewPrivs: ${flag}`,
    );
  }
}

// 2. Routing through nginx -----------------------------------------------------------------------

/** As a browser sends it: the server name and, unless it is the scheme's default, the published port. */
function clientHost(expected: ExpectedStack): string {
  return hostHeader(clientUrl(expected.serverName, mainEndpoint(expected), '/'));
}

function describe(answer: HttpAnswer): string {
  if (answer.status === undefined) return `no answer (${answer.error ?? 'closed'})`;
  return `${answer.status} ${answer.body.replace(/\s+/g, ' ').slice(0, 100)}`;
}

/** curl in nginx's container prints the body, then the status on a line of its own. */
const STATUS_LINE = '\nsecure-stack-verify-status:%{http_code}';

/**
 * The backend's /health/ as nginx's loopback listener serves it, from inside the nginx container:
 * no published port reaches it (unless publicHealth is answered). Exercises nginx's proxying too.
 */
async function backendHealth(options: VerifyOptions): Promise<HttpAnswer> {
  const containers = await byService(options);
  const nginx = containers.get('nginx');
  if (!nginx?.running) return { headers: {}, headerValues: {}, body: '', error: 'nginx is not running' };
  const url = `http://127.0.0.1:${NGINX_HEALTH_PORT}${BACKEND_HEALTH_PATH}`;
  // 30 s: on a loaded machine one answer (a database and a Redis round trip, behind a proxy whose
  // upstream may first time out on a replaced container's address) can take well over 10 s.
  const result = await options.engine.exec(
    nginx.id,
    ['curl', '--silent', '--max-time', '30', '--write-out', STATUS_LINE, url],
    { timeoutMs: 45_000 },
  );
  const at = result.stdout.lastIndexOf(STATUS_LINE.slice(0, STATUS_LINE.indexOf('%')));
  const status = at < 0 ? 0 : Number(result.stdout.slice(at).split(':')[1]);
  if (result.code !== 0 || !status)
    return {
      headers: {},
      headerValues: {},
      body: '',
      error: `curl in nginx exit ${result.code} ${result.stderr.trim().slice(0, 120)}`,
    };
  return { status, headers: {}, headerValues: {}, body: result.stdout.slice(0, at) };
}

function json(answer: HttpAnswer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.body);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** nginx's main endpoint on loopback: HTTPS when TLS is on (trusting the stack's certificate), else HTTP. */
function mainEndpoint(expected: ExpectedStack): Endpoint {
  if (!expected.https) return { port: expected.httpPort };
  return {
    port: expected.https.port,
    tls: { ca: readFileSync(expected.https.certificateFile, 'utf8'), servername: expected.serverName },
  };
}

function isLoopbackReachable(address: string): boolean {
  return ['0.0.0.0', '127.0.0.1', '::', '[::]', '[::1]', 'localhost', ''].includes(address);
}

async function checkRouting(options: VerifyOptions, add: Add): Promise<void> {
  const { expected } = options;
  const endpoint = mainEndpoint(expected);
  const host = clientHost(expected);
  if (!isLoopbackReachable(expected.httpBindAddress)) {
    add(
      'published port reachable on loopback',
      false,
      `nginx is bound to ${expected.httpBindAddress}: verify connects to loopback only`,
    );
    return;
  }
  if (expected.https) {
    const plainEndpoint = { port: expected.httpPort };
    const from = clientUrl(expected.serverName, plainEndpoint, `${expected.routes[0] ?? ''}/secure-stack-verify`);
    const plain = await httpGetPaced(plainEndpoint, from.pathname, hostHeader(from));
    const location = plain.headers['location'];
    const httpsOrigin = clientUrl(expected.serverName, endpoint, '/').origin;
    const problem =
      redirectProblem(from, location, httpsOrigin) ??
      (new URL(location!, from).pathname === from.pathname ? undefined : `the path became ${location}`);
    add(
      `plain HTTP redirects to HTTPS on the published port (${httpsOrigin})`,
      (plain.status === 301 || plain.status === 308) && problem === undefined,
      `${describe(plain)} Location: ${location ?? '(none)'}${problem ? `: ${problem}` : ''}`,
    );
  }
  const notProxied = async (path: string): Promise<string | undefined> => {
    const answer = await httpGetPaced(endpoint, path, host);
    // nginx's own 404 page, not the backend's (which would be Django's or JSON).
    return answer.status === 404 && json(answer) === undefined && /nginx/i.test(answer.body)
      ? undefined
      : `${path}: ${describe(answer)}`;
  };
  const health = await backendHealth(options);
  const body = json(health);
  const stores = ['database', ...('redis' in expected.services ? ['redis'] : [])];
  const legacy =
    health.status === 404
      ? ' (a stack from before 0.3.0 serves it on the published port only: re-run the generator)'
      : '';
  add(
    `/health/ answers 200 through nginx's loopback listener (127.0.0.1:${NGINX_HEALTH_PORT})`,
    health.status === 200,
    describe(health) + legacy,
  );
  for (const store of stores) add(`/health/ reports ${store} ok`, body?.[store] === 'ok', describe(health));
  if (expected.publicHealth) {
    const published = await httpGetPaced(endpoint, BACKEND_HEALTH_PATH, host);
    add('/health/ answers 200 on the published port (publicHealth)', published.status === 200, describe(published));
    // nginx answers a proxied prefix without its slash with a redirect: it must keep the client's host and port.
    const slashless = clientUrl(expected.serverName, endpoint, BACKEND_HEALTH_PATH.replace(/\/$/, ''));
    const followed = await followRedirects(endpoint, slashless);
    add(
      `${slashless.pathname} redirects on the published host and port (${slashless.origin}) and ends in 200`,
      followed.hops.length > 0 && followed.problem === undefined && followed.answer.status === 200,
      `${[...followed.hops, describe(followed.answer)].join(' -> ')}${followed.problem ? `: ${followed.problem}` : ''}`,
    );
  } else {
    // Which data store is down, and a database round trip per call, are for the operator alone.
    const published = await notProxied(BACKEND_HEALTH_PATH);
    add(
      '/health/ is not served on the published port (404 from nginx)',
      published === undefined,
      published ?? BACKEND_HEALTH_PATH,
    );
  }

  // On a proxied answer and on nginx's own 404, each exactly once: a header sent twice (by the
  // backend and by nginx) is a misconfiguration that browsers resolve inconsistently.
  const samples = [
    await httpGetPaced(endpoint, expected.routes[0] ?? '/', host),
    await httpGetPaced(endpoint, OUTSIDE_PATH, host),
  ];
  const missing = new Set<string>();
  const duplicated = new Set<string>();
  for (const answer of samples) {
    for (const [header, pattern] of Object.entries(
      expected.https ? { ...SECURITY_HEADERS, 'strict-transport-security': /max-age=\d+/ } : SECURITY_HEADERS,
    )) {
      const values = answer.headerValues[header] ?? [];
      if (answer.status === undefined || values.length === 0 || !values.every((value) => pattern.test(value)))
        missing.add(header);
      if (values.length > 1) duplicated.add(header);
    }
  }
  add(
    'security headers present once (proxied answer and nginx 404)',
    missing.size === 0 && duplicated.size === 0,
    missing.size
      ? `missing or wrong: ${[...missing].join(', ')}`
      : duplicated.size
        ? `sent twice: ${[...duplicated].join(', ')}`
        : Object.keys(SECURITY_HEADERS).join(', '),
  );
  const servers = samples.map((answer) => answer.headers['server']);
  add(
    'Server header carries no version',
    samples.every((answer) => answer.status !== undefined) &&
      servers.every((server) => server === undefined || !/\d/.test(server)),
    `Server: ${[...new Set(servers)].join(', ') || '(none)'}`,
  );

  if (expected.routes.length === 0) add('routes known from .yo-rc.json', false, 'no routes in .yo-rc.json');
  const routeProblems: string[] = [];
  for (const route of expected.routes) {
    for (const path of [route, `${route}/secure-stack-verify/sub`]) {
      const answer = await httpGetPaced(endpoint, path, host);
      if (answer.status !== 200 || json(answer)?.['route'] !== route)
        routeProblems.push(`${path}: ${describe(answer)}`);
    }
  }
  add(
    `each route and a sub-path reach the backend (${expected.routes.length} routes)`,
    expected.routes.length > 0 && routeProblems.length === 0,
    routeProblems.slice(0, 5).join('; '),
  );

  const outside = await notProxied(OUTSIDE_PATH);
  add('a path outside the routes gets 404 from nginx', outside === undefined, outside ?? OUTSIDE_PATH);
  // nginx's liveness answer belongs to its healthcheck, on the container's loopback.
  const nginxHealth = await httpGetPaced(endpoint, NGINX_HEALTH_PATH, host);
  add(`${NGINX_HEALTH_PATH} is refused on the published port (403)`, nginxHealth.status === 403, describe(nginxHealth));
  // nginx judges a body by its announced length before reading it: nothing is uploaded.
  const tooLarge = await httpGet(endpoint, expected.routes[0] ?? '/', host, 15_000, {
    method: 'POST',
    headers: { 'Content-Length': String(expected.maxBodyBytes + 1), 'Content-Type': 'application/octet-stream' },
  });
  add(
    `a body one byte above maxBodySize (${expected.maxBodyBytes} bytes) is refused (413)`,
    tooLarge.status === 413,
    describe(tooLarge),
  );
  const lookAlikes: string[] = [];
  for (const route of expected.routes) {
    const path = `${route}ary`;
    if (expected.routes.some((other) => path === other || path.startsWith(`${other}/`))) continue;
    const problem = await notProxied(path);
    if (problem) lookAlikes.push(problem);
  }
  add(
    'look-alike prefixes (route + "ary") get 404 from nginx',
    lookAlikes.length === 0,
    lookAlikes.slice(0, 5).join('; '),
  );

  for (const unknown of ['unknown-host.invalid', '127.0.0.1']) {
    const answer = await httpGet(endpoint, BACKEND_HEALTH_PATH, unknown);
    // nginx's 444 closes the connection it accepted: a refused or timed-out one proves nothing.
    add(
      `unknown Host ${unknown} gets no answer (444)`,
      answer.status === undefined && answer.error === 'ECONNRESET',
      describe(answer),
    );
  }
}

// 3. Isolation -----------------------------------------------------------------------------------

/** The stack's data stores: whatever compose.yaml now says, they must sit on internal networks only. */
function dataStores(expected: ExpectedStack): string[] {
  return Object.keys(DATA_STORE_PORTS).filter((name) => name in expected.services);
}

async function checkIsolation(options: VerifyOptions, add: Add): Promise<void> {
  const { engine, expected } = options;
  const containers = await byService(options);
  const nginx = running(containers, 'nginx');
  const stores = dataStores(expected);
  if (stores.length === 0) add('the stack has data stores', false, 'no postgres or redis service in compose.yaml');
  const outsideTargets = await outsideAddresses(engine, expected, containers);
  const hostRoutes = new HostRoutes();
  const rows = await Promise.all(
    stores.map(async (store) => {
      const out: Parameters<Add>[] = [];
      const container = running(containers, store);
      const networks = expected.services[store]?.networks ?? [];
      const open = networks.filter((network) => !expected.internalNetworks.includes(network));
      out.push([
        `${store} joins internal networks only`,
        networks.length > 0 && open.length === 0,
        open.length ? `also on ${open.join(', ')}` : networks.join(', '),
      ]);

      // getent exits 2 for "not found"; anything else (1: resolver error, e.g. the engine's DNS
      // reloading) proves nothing, so it is asked again.
      let resolve = await engine.exec(nginx.id, ['getent', 'hosts', store]);
      for (let attempt = 0; attempt < 3 && resolve.code !== 0 && resolve.code !== 2; attempt += 1) {
        await sleep(1000);
        resolve = await engine.exec(nginx.id, ['getent', 'hosts', store]);
      }
      out.push([
        `nginx cannot resolve ${store}`,
        resolve.code === 2,
        resolve.stdout.trim() || `getent exit ${resolve.code}${resolve.code === 2 ? ' (not found)' : ''}`,
      ]);

      const port = DATA_STORE_PORTS[store] ?? 0;
      const addresses = Object.values(container.addresses);
      if (addresses.length === 0) out.push([`${store} has a container address`, false, 'none']);
      await Promise.all(
        addresses.map(async (address) => {
          const offHost = await hostRoutes.offHost(address);
          if (offHost) {
            // On a swarm an overlay's subnet is not routed on the host: a probe would leave the machine
            // and test whatever answers outside (some networks accept any connection), not the stack.
            // What the engine says the two containers are attached to is the evidence instead.
            const shared = Object.keys(nginx.addresses).filter((network) => network in container.addresses);
            const networksOf = (attached: Record<string, unknown>) => Object.keys(attached).join(', ') || 'nothing';
            const detail = shared.length
              ? `nginx and ${store} are both on ${shared.join(', ')}`
              : `not probed: this host routes ${address} ${offHost}; ` +
                `nginx is on ${networksOf(nginx.addresses)}, ${store} on ${networksOf(container.addresses)}`;
            out.push([`nginx cannot connect to ${store} at ${address}:${port}`, shared.length === 0, detail]);
            return;
          }
          const connect = await engine.exec(nginx.id, [
            'timeout',
            '3',
            'bash',
            '-c',
            'exec 3<>"/dev/tcp/$0/$1" && echo CONNECTED',
            address,
            String(port),
          ]);
          const usable = connect.code !== 127 && connect.code !== 126;
          const timedOut = connect.code === 124 ? ' (timed out)' : '';
          out.push([
            `nginx cannot connect to ${store} at ${address}:${port}`,
            usable && !connect.stdout.includes('CONNECTED'),
            usable
              ? `exit ${connect.code}${timedOut} ${connect.stderr.trim().slice(0, 80)}`
              : 'probe tools (timeout, bash) missing in the nginx image',
          ]);
        }),
      );
      // Control: the store is reachable where it should be, so the probe above could succeed.
      const backend = containers.get('backend');
      if (backend?.running) {
        // Retried: podman's aardvark-dns can fail a lookup while it reloads for another container.
        let control = await engine.exec(backend.id, [
          'python',
          '-c',
          'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3).close(); print("CONNECTED")',
          store,
          String(port),
        ]);
        for (let attempt = 0; attempt < 3 && !control.stdout.includes('CONNECTED'); attempt += 1) {
          await sleep(1000);
          control = await engine.exec(backend.id, [
            'python',
            '-c',
            'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3).close(); print("CONNECTED")',
            store,
            String(port),
          ]);
        }
        out.push([
          `control: backend connects to ${store}:${port}`,
          control.stdout.includes('CONNECTED'),
          control.stdout.trim() || control.stderr.trim().split('\n').at(-1) || '',
        ]);
      }
      out.push(await cannotConnectOut(engine, container, store, port, outsideTargets));
      return out;
    }),
  );
  for (const row of rows.flat()) add(...row);
}

/** This host's routes (`ip route`), asked once per address and once for the default route. */
class HostRoutes {
  private defaults?: Promise<string>;

  /** How the host routes `address` out of the machine ("out of eth0 via 192.0.2.1"), or undefined. */
  async offHost(address: string): Promise<string | undefined> {
    this.defaults ??= runProcess('ip', ['-o', 'route', 'show', 'default']).then((result) =>
      result.code === 0 ? result.stdout : '',
    );
    const route = await runProcess('ip', ['-o', 'route', 'get', address]);
    return route.code === 0 ? offHostRoute(route.stdout, await this.defaults) : undefined;
  }
}

/**
 * From `ip -o route get ADDRESS` and `ip -o route show default`: "out of DEV via GATEWAY" when the
 * address goes through a gateway on a default route's device, undefined when it is on a network of
 * this host (an engine's bridge) or the output says nothing.
 */
export function offHostRoute(routeGet: string, defaultRoutes: string): string | undefined {
  const device = / dev (\S+)/.exec(routeGet)?.[1];
  const via = / via (\S+)/.exec(routeGet)?.[1];
  const defaultDevices = [...defaultRoutes.matchAll(/ dev (\S+)/g)].map((match) => match[1]);
  return device && via && defaultDevices.includes(device) ? `out of ${device} via ${via}` : undefined;
}

/**
 * What a data store must not reach, whatever its route table says (podman gives an internal
 * network no default route; Docker gives one and drops the traffic): nginx's published ports on
 * the host's address on every network of the stack (its gateways), where they listen on every
 * address, and nginx itself at its ports. Ports published on one address (bindAddress 127.0.0.1)
 * do not listen on the gateways, so trying them there would prove nothing: they are left out.
 */
async function outsideAddresses(
  engine: Engine,
  expected: ExpectedStack,
  containers: Map<string, ContainerInfo>,
): Promise<{ targets: string[]; note: string }> {
  // On a swarm the host's own address on a task's network is on docker_gwbridge (overlay gateways live in the overlay).
  const networks = [
    ...new Set(
      [...containers.values()]
        .flatMap((container) => Object.keys(container.addresses))
        .concat(engine.isSwarm ? ['docker_gwbridge'] : []),
    ),
  ];
  const gateways = [...new Set(Object.values(await engine.gateways(networks)).flat())];
  const wildcard = ['0.0.0.0', '::', '[::]', ''].includes(expected.httpBindAddress);
  const published = wildcard ? [expected.httpPort, ...(expected.https ? [expected.https.port] : [])] : [];
  const nginxPorts = [NGINX_HTTP_PORT, ...(expected.https ? [NGINX_HTTPS_PORT] : [])];
  const nginxAddresses = Object.values(containers.get('nginx')?.addresses ?? {});
  return {
    targets: [
      ...gateways.flatMap((address) => published.map((port) => `${address}:${port}`)),
      ...nginxAddresses.flatMap((address) => nginxPorts.map((port) => `${address}:${port}`)),
    ],
    note: wildcard ? '' : `; ports published on ${expected.httpBindAddress} only, so not tried on the gateways`,
  };
}

/** One exec: every target in parallel (3 s each), and the store's own port as the control that the probe works. */
const CONNECT_PROBE = `for t in "$@"; do
  ( if timeout 3 bash -c 'exec 3<>"/dev/tcp/\${0%:*}/\${0##*:}"' "$t" 2>/dev/null; then echo "CONNECTED $t"; else echo "closed $t $?"; fi ) &
done; wait`;

async function cannotConnectOut(
  engine: Engine,
  container: ContainerInfo,
  store: string,
  port: number,
  { targets, note }: { targets: string[]; note: string },
): Promise<Parameters<Add>> {
  const name = `${store} cannot connect to nginx or its published ports`;
  const own = Object.values(container.addresses)[0];
  if (!own || targets.length === 0)
    return [
      name,
      false,
      own
        ? 'no outside address to try (no network gateways or nginx address found)'
        : `${store} has no container address`,
    ];
  const control = `${own}:${port}`;
  const probe = await engine.exec(container.id, ['bash', '-c', CONNECT_PROBE, 'probe', control, ...targets], {
    timeoutMs: 30_000,
  });
  const connected = new Set(
    probe.stdout
      .split('\n')
      .filter((line) => line.startsWith('CONNECTED '))
      .map((line) => line.slice('CONNECTED '.length).trim()),
  );
  if (!connected.has(control))
    return [
      name,
      false,
      `control: ${store} could not connect to itself at ${control} (probe tools timeout, bash missing?) ${probe.stderr.trim().slice(0, 80)}`,
    ];
  const reached = targets.filter((target) => connected.has(target));
  const tried = targets.slice(0, 3).join(', ') + (targets.length > 3 ? ', ...' : '');
  return [
    name,
    reached.length === 0,
    reached.length
      ? `connected to ${reached.join(', ')}`
      : `${targets.length} host and nginx addresses tried (${tried})${note}`,
  ];
}

// 4. Authentication ------------------------------------------------------------------------------

/** psql over TCP as the backend's role, its password on stdin (never in argv or the exec's environment). */
const PSQL = 'PGPASSWORD="$(cat)" exec psql -X -v ON_ERROR_STOP=1 -h "$0" -U "$1" -d "$2" -tAc "$3"';

function psqlAsBackend(engine: Engine, expected: ExpectedStack, container: string, address: string, sql: string) {
  return engine.exec(container, ['sh', '-c', PSQL, address, expected.dbUser, expected.dbName, sql], {
    stdin: hostSecret(expected, 'db_password'),
  });
}

async function checkAuthentication(options: VerifyOptions, add: Add): Promise<void> {
  const { engine, expected } = options;
  const containers = await byService(options);
  const health = json(await backendHealth(options));
  add(
    'backend logs into Postgres with the generated secret (/health/ database ok)',
    health?.['database'] === 'ok',
    JSON.stringify(health ?? null),
  );

  const postgres = running(containers, 'postgres');
  const address = Object.values(postgres.addresses)[0] ?? '127.0.0.1';
  const good = await psqlAsBackend(engine, expected, postgres.id, address, 'select 1');
  add(
    'the secret file logs into Postgres over TCP',
    good.code === 0 && good.stdout.trim() === '1',
    good.stdout.trim() || good.stderr.trim().slice(0, 160),
  );
  // Least privilege: one SQL injection must not be a superuser's (COPY ... TO PROGRAM runs commands).
  const role = await psqlAsBackend(
    engine,
    expected,
    postgres.id,
    address,
    'select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user',
  );
  const attributes = role.stdout.trim();
  const fromBefore030 = attributes.startsWith('t')
    ? ' (a stack from before 0.3.0: run postgres/app-role.sql once, README "Database roles")'
    : '';
  add(
    `the backend's role (${expected.dbUser}) is not a superuser and cannot create roles or databases`,
    role.code === 0 && attributes === 'f|f|f',
    role.code === 0 ? `superuser|createrole|createdb: ${attributes}${fromBefore030}` : role.stderr.trim().slice(0, 160),
  );
  const program = await psqlAsBackend(engine, expected, postgres.id, address, "copy (select 1) to program 'true'");
  add(
    "the backend's role cannot run COPY ... TO PROGRAM",
    program.code !== 0 && /permission denied|must be superuser|pg_execute_server_program/.test(program.stderr),
    program.code === 0 ? 'it ran' : program.stderr.trim().slice(0, 160),
  );
  const bad = await engine.exec(
    postgres.id,
    ['psql', '-X', '-h', address, '-U', expected.dbUser, '-d', expected.dbName, '-tAc', 'select 1'],
    { env: { PGPASSWORD: 'secure-stack-verify-wrong-password' } },
  );
  add(
    'a wrong Postgres password over TCP is refused',
    bad.code !== 0 && /password authentication failed/.test(bad.stderr),
    bad.stderr.trim().slice(0, 160) || `exit ${bad.code}`,
  );

  if (!('redis' in expected.services)) return;
  add(
    'backend logs into Redis with the generated secret (/health/ redis ok)',
    health?.['redis'] === 'ok',
    JSON.stringify(health ?? null),
  );
  const redis = running(containers, 'redis');
  const redisAddress = Object.values(redis.addresses)[0] ?? '127.0.0.1';
  const anonymous = await engine.exec(redis.id, ['redis-cli', '-h', redisAddress, 'ping']);
  add(
    'an unauthenticated Redis client is refused (NOAUTH)',
    /NOAUTH/.test(anonymous.stdout + anonymous.stderr) && !/PONG/.test(anonymous.stdout),
    (anonymous.stdout + anonymous.stderr).trim().slice(0, 160),
  );
  const asUser = (user: string, password: string, ...argv: string[]) =>
    redisCli(engine, redis.id, redisAddress, user, password, argv);
  const wrong = await asUser(REDIS_BACKEND_USER, 'secure-stack-verify-wrong-password', 'PING');
  add(
    'a wrong Redis password is refused',
    /WRONGPASS/.test(wrong.stdout + wrong.stderr) && !/PONG/.test(wrong.stdout),
    (wrong.stdout + wrong.stderr).trim().slice(0, 160),
  );
  const backendPassword = hostSecret(expected, 'redis_password');
  const authenticated = await asUser(REDIS_BACKEND_USER, backendPassword, 'PING');
  add(
    `the secret file logs into Redis as "${REDIS_BACKEND_USER}"`,
    authenticated.stdout.trim().endsWith('PONG'),
    (authenticated.stdout + authenticated.stderr).trim().slice(0, 160),
  );
  // Least privilege: the default user is off, and a stolen backend password runs no script,
  // changes no configuration and makes no user.
  const asDefault = await asUser('default', backendPassword, 'PING');
  add(
    'the default Redis user is off (its old password logs in nowhere)',
    /WRONGPASS/.test(asDefault.stdout + asDefault.stderr) && !/PONG/.test(asDefault.stdout),
    (asDefault.stdout + asDefault.stderr).trim().slice(0, 160),
  );
  const denied: string[] = [];
  for (const command of [
    ['EVAL', 'return 1', '0'],
    ['CONFIG', 'SET', 'maxmemory', '1'],
    ['ACL', 'SETUSER', 'secure-stack-verify', 'on'],
    ['FLUSHALL'],
    ['MODULE', 'LIST'],
  ]) {
    const answer = await asUser(REDIS_BACKEND_USER, backendPassword, ...command);
    if (!/NOPERM/.test(answer.stdout + answer.stderr))
      denied.push(`${command.join(' ')}: ${(answer.stdout + answer.stderr).trim().slice(0, 80)}`);
  }
  add(
    `"${REDIS_BACKEND_USER}" gets NOPERM for EVAL, CONFIG SET, ACL SETUSER, FLUSHALL, MODULE`,
    denied.length === 0,
    denied.join('; '),
  );
  if (expected.secretFiles['redis_healthcheck_password']) {
    const healthPassword = hostSecret(expected, 'redis_healthcheck_password');
    const ping = await asUser(REDIS_HEALTHCHECK_USER, healthPassword, 'PING');
    const get = await asUser(REDIS_HEALTHCHECK_USER, healthPassword, 'GET', 'secure-stack-verify');
    add(
      `"${REDIS_HEALTHCHECK_USER}" may PING and nothing else (GET: NOPERM)`,
      ping.stdout.trim().endsWith('PONG') && /NOPERM/.test(get.stdout + get.stderr),
      `PING: ${ping.stdout.trim().slice(0, 40)}; GET: ${(get.stdout + get.stderr).trim().slice(0, 80)}`,
    );
  } else {
    add(
      `Redis has a "${REDIS_HEALTHCHECK_USER}" user with its own secret`,
      false,
      'compose.yaml declares no redis_healthcheck_password secret (re-run the generator)',
    );
  }
}

/** A secret's value, read from its file on the host (the repository's secrets/). */
function hostSecret(expected: ExpectedStack, name: string): string {
  const path = expected.secretFiles[name];
  if (!path) throw new Error(`compose.yaml declares no ${name} secret`);
  return readFileSync(path, 'utf8').trim();
}

/** redis-cli inside the Redis container as `user`; the password goes in on stdin, never in argv. */
function redisCli(engine: Engine, container: string, address: string, user: string, password: string, argv: string[]) {
  return engine.exec(
    container,
    ['redis-cli', '--no-auth-warning', '-h', address, '--user', user, '--askpass', ...argv],
    { stdin: `${password}\n` },
  );
}

// 5. Secrets -------------------------------------------------------------------------------------

/**
 * One exec per container: the /run/secrets listing, each needed file (base64, read as the
 * container's own user) and every process's command line.
 */
const SECRETS_PROBE = `echo "== ls"; ls -A ${SECRETS_MOUNT_DIRECTORY} 2>/dev/null
for f in "$@"; do
  if out=$(base64 -w0 < "$f" 2>&1); then echo "== file ok $f"; echo "$out"; else echo "== file error $f"; echo "$out" | head -n1; fi
done
echo "== cmdline"; for f in /proc/[0-9]*/cmdline; do tr "\\000" " " < "$f" 2>/dev/null; echo; done`;

interface SecretsProbe {
  listing: string[];
  files: Map<string, { ok: boolean; content: string }>;
  cmdlines: string;
}

function parseSecretsProbe(output: string): SecretsProbe {
  const probe: SecretsProbe = { listing: [], files: new Map(), cmdlines: '' };
  const sections = output.split(/^== /m).filter(Boolean);
  for (const section of sections) {
    const newline = section.indexOf('\n');
    const head = newline < 0 ? section : section.slice(0, newline);
    const body = newline < 0 ? '' : section.slice(newline + 1);
    if (head === 'ls')
      probe.listing = body
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .sort();
    else if (head === 'cmdline') probe.cmdlines = body;
    else {
      const match = /^file (ok|error) (.*)$/.exec(head);
      if (match?.[2])
        probe.files.set(match[2], {
          ok: match[1] === 'ok',
          content: match[1] === 'ok' ? Buffer.from(body.trim(), 'base64').toString('utf8') : body.trim(),
        });
    }
  }
  return probe;
}

async function checkSecrets(options: VerifyOptions, add: Add): Promise<void> {
  const { engine, expected } = options;
  const containers = await byService(options);
  const needles = secretNeedles(expected);
  for (const [secret, path] of Object.entries(expected.secretFiles))
    add(`secret file ${secret} exists on the host`, existsSync(path), path);

  const rows = await Promise.all(
    Object.values(expected.services).map(async (service) => {
      const out: Parameters<Add>[] = [];
      const container = containers.get(service.name);
      if (!container?.running) {
        out.push([`${service.name} sees exactly its own secrets`, false, `${service.name} is not running`]);
        return out;
      }
      // It needs every secret it is granted and every /run/secrets file its *_FILE variables name.
      const needed = new Set(service.secrets.map((secret) => `${SECRETS_MOUNT_DIRECTORY}/${secret}`));
      for (const line of container.env) {
        const match = /^[A-Z0-9_]+_FILE=(.+)$/.exec(line);
        if (match?.[1]?.startsWith(`${SECRETS_MOUNT_DIRECTORY}/`)) needed.add(match[1]);
      }
      const result = await engine.exec(container.id, ['sh', '-c', SECRETS_PROBE, 'probe', ...needed]);
      const probe = parseSecretsProbe(result.stdout);
      const wanted = [...service.secrets].sort();
      out.push([
        `${service.name} sees exactly its own secrets`,
        result.code === 0 && probe.listing.join(',') === wanted.join(','),
        `sees [${probe.listing.join(', ')}], granted [${wanted.join(', ')}]`,
      ]);

      const unreadable: string[] = [];
      for (const path of needed) {
        const file = probe.files.get(path);
        const host = expected.secretFiles[path.slice(SECRETS_MOUNT_DIRECTORY.length + 1)];
        if (!file) unreadable.push(`${path} (not probed)`);
        else if (!file.ok) unreadable.push(`${path} (${file.content.slice(0, 60)})`);
        else if (!host || !existsSync(host) || readFileSync(host, 'utf8') !== file.content)
          unreadable.push(`${path} differs from the host file`);
      }
      out.push([
        `${service.name} (user ${container.user || 'image default'}) reads the secrets it needs`,
        result.code === 0 && unreadable.length === 0,
        unreadable.join('; ') || [...needed].join(', ') || 'needs none',
      ]);

      const processes = probe.cmdlines.trim().split('\n').filter(Boolean).length;
      const leakedArgv = needles
        .filter(({ needles: values }) => values.some((value) => probe.cmdlines.includes(value)))
        .map(({ secret }) => secret);
      out.push([
        `no secret in any command line in ${service.name}`,
        processes > 0 && leakedArgv.length === 0,
        leakedArgv.length ? `leaked: ${leakedArgv.join(', ')}` : `${processes} processes`,
      ]);
      const leakedEnv = needles
        .filter(({ needles: values }) => values.some((value) => container.env.some((line) => line.includes(value))))
        .map(({ secret }) => secret);
      out.push([
        `no secret in ${service.name}'s environment`,
        leakedEnv.length === 0,
        leakedEnv.length ? `leaked: ${leakedEnv.join(', ')}` : `${container.env.length} variables`,
      ]);
      return out;
    }),
  );
  for (const row of rows.flat()) add(...row);
  // The TLS key is for nginx's master alone (root: 0400, the host user's file on Compose, root's
  // own copy on a swarm). Its workers, which handle every request, run as "nginx" and must not be
  // able to read it; that nginx's master can is shown above ("reads the secrets it needs").
  const nginx = containers.get('nginx');
  if (expected.services['nginx']?.secrets.includes('tls_key') && nginx?.running) {
    const worker = await engine.exec(
      nginx.id,
      ['sh', '-c', 'cat "$0" > /dev/null', `${SECRETS_MOUNT_DIRECTORY}/tls_key`],
      { user: 'nginx' },
    );
    const hostKey = expected.secretFiles['tls_key'];
    const fix = engine.isSwarm ? '' : ` (chmod 0400 ${hostKey ?? 'the key file'}, after docker compose up -d)`;
    add(
      "nginx's worker user cannot read the TLS key",
      worker.code !== 0 && /denied/i.test(worker.stderr),
      worker.code === 0 ? `it can${fix}` : worker.stderr.trim().slice(0, 160),
    );
  }
  const stackFiles = {
    'compose.yaml': expected.composeText,
    ...(expected.stackText === undefined ? {} : { 'stack.yaml': expected.stackText }),
  };
  for (const [file, text] of Object.entries(stackFiles)) {
    const leaked = needles
      .filter(({ needles: values }) => values.some((value) => text.includes(value)))
      .map(({ secret }) => secret);
    add(
      `no secret value in ${file}`,
      leaked.length === 0,
      leaked.length ? `leaked: ${leaked.join(', ')}` : `${needles.length} secrets looked for`,
    );
  }
}

// 6. Persistence ---------------------------------------------------------------------------------

async function checkPersistence(options: VerifyOptions, add: Add): Promise<void> {
  const { engine, expected, recreate } = options;
  if (!recreate) {
    add(
      'a service can be recreated',
      false,
      'no Compose client for this engine answered, so no service can be recreated',
    );
    return;
  }
  const token = `verify-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const postgresSql = async (sql: string) => {
    const postgres = running(await byService(options), 'postgres');
    return psqlAsBackend(engine, expected, postgres.id, '127.0.0.1', sql);
  };
  const redisCommand = async (...argv: string[]) => {
    const redis = running(await byService(options), 'redis');
    return redisCli(engine, redis.id, '127.0.0.1', REDIS_BACKEND_USER, hostSecret(expected, 'redis_password'), argv);
  };

  const write = await postgresSql(
    `CREATE TABLE IF NOT EXISTS secure_stack_verify (token text PRIMARY KEY); INSERT INTO secure_stack_verify VALUES ('${token}')`,
  );
  add('a row is written to Postgres', write.code === 0, write.stderr.trim().slice(0, 160));
  await recreate('postgres');
  const read = await postgresSql(`SELECT token FROM secure_stack_verify WHERE token = '${token}'`);
  add(
    'the row survives recreating postgres with its volume',
    read.code === 0 && read.stdout.trim() === token,
    read.stdout.trim() || read.stderr.trim().slice(0, 160),
  );
  await postgresSql('DROP TABLE IF EXISTS secure_stack_verify');

  if ('redis' in expected.services) {
    const set = await redisCommand('SET', 'secure-stack-verify', token);
    add('a key is written to Redis', set.stdout.trim().endsWith('OK'), set.stdout.trim().slice(0, 160));
    await recreate('redis');
    const get = await redisCommand('GET', 'secure-stack-verify');
    add(
      'the key survives recreating redis with its volume',
      get.stdout.trim().endsWith(token),
      get.stdout.trim().slice(0, 160),
    );
    await redisCommand('DEL', 'secure-stack-verify');
  }

  // The backend reconnects to the recreated stores.
  let health: HttpAnswer | undefined;
  for (let attempt = 0; attempt < 30; attempt += 1) {
    health = await backendHealth(options);
    if (health.status === 200) break;
    await sleep(1000);
  }
  add(
    '/health/ is ok again after the data stores were recreated',
    health?.status === 200,
    health ? describe(health) : '',
  );
}

// 7. Audit by third-party scanners ---------------------------------------------------------------

async function checkAudit(options: VerifyOptions, add: Add): Promise<void> {
  const { expected } = options;
  const https = expected.https && {
    serverName: expected.serverName,
    port: expected.https.port,
    certificateFile: expected.https.certificateFile,
  };
  for (const row of await auditRows({ directory: expected.directory, https }))
    add(row.name, row.ok, row.detail, row.lines);
}
