/**
 * Checks that a rendered stack holds the answered values and nothing else. The strongest check is
 * a placeholder render: the same answers with every free-text value (names, host, routes) replaced
 * by an inert placeholder must render files that, placeholders swapped back for the real values,
 * equal the real files byte for byte. An answer that added a line, a quote, a key or a directive
 * anywhere would break that equality. Parsers then confirm the meaning: YAML + Compose schema,
 * an nginx tokeniser, Docker's image reference grammar, and (batched, see python-batch.ts) Python.
 */
import { parseDocument } from 'yaml';
import type { Answers } from '../../generators/lib/answers/types.js';
import { STACK_FILES } from '../../generators/app/files.js';
import { renderStack } from '../../generators/lib/render.js';
import { buildStackModel } from '../../generators/lib/stack/stack-model.js';
import { composeSchemaErrors } from './compose-schema.js';

export type Files = ReadonlyMap<string, string>;

export function renderFiles(answers: Answers): Map<string, string> {
  return new Map(renderStack(buildStackModel(answers), STACK_FILES).map((file) => [file.path, file.content]));
}

/** Every placeholder has this shape, so one small pattern finds them all (500 routes make 500 placeholders). */
const PLACEHOLDER = /\/?qq[a-z0-9]+qq(?:\.invalid)?/g;

/** Replaces every placeholder in one pass, so a real value can never be re-substituted. */
function substituter(pairs: readonly (readonly [string, string])[]): (text: string) => string {
  const map = new Map(pairs);
  return (text) => text.replace(PLACEHOLDER, (match) => map.get(match) ?? match);
}

export function placeholderAnswers(answers: Answers): { answers: Answers; substitute: (text: string) => string } {
  const routes = answers.routes.map((_, index) => ({ path: `/qqroute${index}qq` }));
  // As long as the real name when that is longer: nginx.conf sizes a hash bucket by its length.
  const host = `qqhost${'q'.repeat(Math.max(0, answers.serverName.length - 16))}qq.invalid`;
  // A TLS file path keeps its kind (absolute or relative): Compose and .gitignore write the two differently.
  const files: [string, string][] = [];
  const filePlaceholder = (path: string | null, name: string): string | null => {
    if (path === null) return null;
    const stand = `${path.startsWith('/') ? '/' : ''}qq${name}qq`;
    files.push([stand, path]);
    // A relative path also appears after a "/" (./path in Compose, /path in .gitignore), which the pattern takes in.
    if (!path.startsWith('/')) files.push([`/${stand}`, `/${path}`]);
    return stand;
  };
  const tlsCert = filePlaceholder(answers.tlsCert, 'tlscert');
  const tlsKey = filePlaceholder(answers.tlsKey, 'tlskey');
  const placeholder: Answers = {
    ...answers,
    projectName: 'qqprojectqq',
    dbName: 'qqdbnameqq',
    dbUser: 'qqdbuserqq',
    serverName: host,
    routes,
    tlsCert,
    tlsKey,
  };
  const pairs: [string, string][] = [
    ['qqprojectqq', answers.projectName],
    ['qqdbnameqq', answers.dbName],
    ['qqdbuserqq', answers.dbUser],
    [host, answers.serverName],
    ...routes.map((route, index): [string, string] => [route.path, answers.routes[index]!.path]),
    ...files,
  ];
  return { answers: placeholder, substitute: substituter(pairs) };
}

class OutputError extends Error {}
function check(condition: boolean, message: () => string): void {
  if (!condition) throw new OutputError(message());
}
const show = (value: unknown) => JSON.stringify(value)?.slice(0, 400);

/** nginx's lexer, enough for its config files: words, quoted strings, ; { } and # comments. */
export function nginxTokens(config: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[;{}]|[^\s;{}"']+/gy;
  let consumed = 0;
  for (const match of config.matchAll(pattern)) {
    const token = match[0];
    consumed += token.length;
    if (/^\s/.test(token) || token.startsWith('#')) continue;
    tokens.push(token);
  }
  // Sticky matching stops at the first character no rule takes (an unclosed quote): all must be read.
  check(consumed === config.length, () => `nginx.conf cannot be tokenised after offset ${consumed}`);
  return tokens;
}

/** Directives as nginx reads them: [context path, name, ...args] per statement. */
export function nginxStatements(tokens: readonly string[]): { context: string; words: string[] }[] {
  const statements: { context: string; words: string[] }[] = [];
  const stack: string[] = [];
  let words: string[] = [];
  for (const token of tokens) {
    if (token === '{') {
      statements.push({ context: stack.join('/'), words });
      stack.push(words[0] ?? '?');
      words = [];
    } else if (token === '}') {
      check(words.length === 0 && stack.length > 0, () => `unbalanced "}" in nginx.conf after ${show(words)}`);
      stack.pop();
    } else if (token === ';') {
      statements.push({ context: stack.join('/'), words });
      words = [];
    } else {
      words.push(token);
    }
  }
  check(stack.length === 0 && words.length === 0, () => 'nginx.conf ends inside a block or statement');
  return statements;
}

// Docker's reference grammar (distribution/reference): [domain/]component(/component)*[:tag][@digest].
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN =
  '(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?/)?';
export const IMAGE_REFERENCE = new RegExp(
  `^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`,
);

interface ComposeService {
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  deploy?: { replicas?: number; resources?: { limits?: { memory?: string } } };
}

/** Expected answers in their serialised (.yo-rc.json) form. */
export interface Expected {
  projectName: string;
  dbName: string;
  dbUser: string;
  serverName: string;
  httpPort: number;
  redis: boolean;
  memory: Record<string, string>;
  routes: { path: string }[];
  swarm: boolean;
  backendReplicas: number;
  tls: 'off' | 'self-signed' | 'provided';
  tlsCert: string | null;
  tlsKey: string | null;
  httpsPort: number;
  hstsPreload: boolean;
}

export interface PythonSources {
  /** Every Python source of the stack, by path; the backend healthcheck's `python -c` probe as healthcheck-probe.py. */
  files: Record<string, string>;
  expected: { routes: string[]; allowedHosts: string[] };
}

/** stack.yaml: valid YAML and Compose, a stack file (no name), holding the answered replicas and budgets. */
function checkSwarmTarget(
  stackText: string,
  swarmNginx: string,
  serviceNames: readonly string[],
  expected: Expected,
  publicHealth: boolean,
): void {
  const document = parseDocument(stackText, { uniqueKeys: true });
  check(
    document.errors.length === 0 && document.warnings.length === 0,
    () => `stack.yaml does not parse: ${document.errors[0]?.message ?? document.warnings[0]?.message}`,
  );
  const stack = document.toJS() as {
    name?: string;
    version?: string;
    services: Record<string, ComposeService>;
    secrets?: Record<string, { file?: string }>;
  };
  const schemaErrors = composeSchemaErrors(stack);
  check(schemaErrors.length === 0, () => `stack.yaml breaks the Compose schema: ${show(schemaErrors.slice(0, 3))}`);
  check(
    stack.name === undefined && stack.version === '3.9',
    () => `stack.yaml name ${show(stack.name)}, version ${show(stack.version)}`,
  );
  check(
    show(Object.keys(stack.services)) === show(serviceNames),
    () => `stack services ${show(Object.keys(stack.services))}`,
  );
  for (const name of serviceNames) {
    const deploy = stack.services[name]!.deploy;
    check(
      deploy?.replicas === (name === 'backend' ? expected.backendReplicas : 1),
      () => `${name} replicas ${show(deploy?.replicas)}`,
    );
    check(
      deploy?.resources?.limits?.memory === expected.memory[name],
      () => `${name} stack memory ${show(deploy?.resources)}`,
    );
  }
  // docker stack deploy interpolates like Compose: the backend image variable is the only "$".
  check(
    !stackText.replace('${BACKEND_IMAGE:-', '').includes('$'),
    () => 'stack.yaml has a "$" stack deploy would interpolate',
  );
  const statements = nginxStatements(nginxTokens(swarmNginx));
  const proxied = statements.filter((s) => s.words[0] === 'proxy_pass');
  check(
    proxied.length === 1 + (publicHealth ? 1 : 0) + 2 * expected.routes.length &&
      proxied.every((s) => show(s.words) === show(['proxy_pass', '$backend_upstream'])),
    () => 'nginx.swarm.conf proxy_pass',
  );
  check(!statements.some((s) => s.words[0] === 'upstream'), () => 'nginx.swarm.conf has a static upstream');
  // HTTPS on Swarm: host-mode ports for both, the same TLS files as Compose, the same nginx server.
  const ports = (stack.services['nginx']!.ports ?? []) as unknown as {
    target: number;
    published: number;
    mode: string;
  }[];
  const wanted = [[8080, expected.httpPort], ...(expected.tls === 'off' ? [] : [[8443, expected.httpsPort]])];
  check(
    show(ports.map((port) => [port.target, port.published, port.mode])) ===
      show(wanted.map((pair) => [...pair, 'host'])),
    () => `stack.yaml nginx ports ${show(ports)}`,
  );
  checkTlsFiles('stack.yaml', stack, undefined, expected);
  checkHttps(statements, expected);
}

/** The TLS files as Compose secrets: made under secrets/ (self-signed) or the user's own, a relative key git-ignored. */
function checkTlsFiles(
  file: string,
  composeFile: { secrets?: Record<string, { file?: string }> },
  gitignore: string | undefined,
  expected: Expected,
): void {
  const secrets = composeFile.secrets ?? {};
  const asCompose = (path: string | null) => (path === null ? undefined : path.startsWith('/') ? path : `./${path}`);
  const wanted: Record<Expected['tls'], [string | undefined, string | undefined]> = {
    off: [undefined, undefined],
    'self-signed': ['./secrets/tls_cert.pem', './secrets/tls_key.pem'],
    provided: [asCompose(expected.tlsCert), asCompose(expected.tlsKey)],
  };
  const [cert, key] = wanted[expected.tls];
  check(
    secrets['tls_cert']?.file === cert && secrets['tls_key']?.file === key,
    () => `${file} TLS secrets ${show([secrets['tls_cert'], secrets['tls_key']])} for tls ${expected.tls}`,
  );
  if (gitignore === undefined) return;
  // A provided key inside the repository is git-ignored by its own path; nothing else is added.
  const ignoredKey = expected.tls === 'provided' && !expected.tlsKey!.startsWith('/') ? [`/${expected.tlsKey}`] : [];
  const added = gitignore.split('\n').filter((line) => line.startsWith('/') && line !== '/secrets/*');
  check(show(added) === show(ignoredKey), () => `.gitignore adds ${show(added)} for key ${show(expected.tlsKey)}`);
}

/** nginx's HTTPS server: the secrets as certificate and key, the redirect's port, HSTS preloaded exactly when answered. */
function checkHttps(statements: readonly { context: string; words: string[] }[], expected: Expected): void {
  const words = (name: string) => statements.filter((s) => s.words[0] === name).map((s) => s.words.slice(1).join(' '));
  if (expected.tls === 'off') {
    check(
      words('ssl_certificate').length === 0 &&
        words('add_header').every((h) => !h.startsWith('Strict-Transport-Security')),
      () => 'TLS directives without tls',
    );
    return;
  }
  check(
    show(words('ssl_certificate')) === show(['/run/secrets/tls_cert']) &&
      show(words('ssl_certificate_key')) === show(['/run/secrets/tls_key']),
    () => `certificate ${show(words('ssl_certificate'))}`,
  );
  const redirectTo = `https://$host${expected.httpsPort === 443 ? '' : `:${expected.httpsPort}`}$request_uri`;
  check(words('return').includes(`301 ${redirectTo}`), () => `redirect ${show(words('return'))}`);
  const hsts = words('add_header').filter((h) => h.startsWith('Strict-Transport-Security'));
  const value = expected.hstsPreload ? '"max-age=63072000; includeSubDomains; preload"' : '"max-age=63072000"';
  check(
    show(hsts) === show([`Strict-Transport-Security ${value} always`]),
    () => `HSTS ${show(hsts)} (hstsPreload ${expected.hstsPreload})`,
  );
}

/**
 * Throws (with what differs) unless `files`, the rendered stack of `answers`, holds exactly the
 * `expected` values and the structure a placeholder render has. Returns its Python for batching.
 */
export function checkStack(files: Files, answers: Answers, expected: Expected): PythonSources {
  // 1. Byte-for-byte equal to the placeholder render with the values swapped in.
  const placeholder = placeholderAnswers(answers);
  const reference = renderFiles(placeholder.answers);
  check(
    show([...files.keys()].sort()) === show([...reference.keys()].sort()),
    () => `rendered paths differ: ${show([...files.keys()])}`,
  );
  for (const [path, content] of reference) {
    const wanted = placeholder.substitute(content);
    if (files.get(path) !== wanted) {
      const real = files.get(path)!.split('\n');
      const line = wanted.split('\n').findIndex((text, index) => text !== real[index]);
      throw new OutputError(
        `${path} is not the placeholder render with the values swapped in; first difference at line ${line + 1}: ${show(real[line])} vs ${show(wanted.split('\n')[line])}`,
      );
    }
  }

  // 2. compose.yaml: valid YAML, valid Compose, holding the answered values.
  const composeText = files.get('compose.yaml')!;
  const document = parseDocument(composeText, { uniqueKeys: true });
  check(
    document.errors.length === 0 && document.warnings.length === 0,
    () => `compose.yaml does not parse: ${document.errors[0]?.message ?? document.warnings[0]?.message}`,
  );
  const compose = document.toJS() as {
    name: string;
    services: Record<string, ComposeService>;
    secrets?: Record<string, { file?: string }>;
  };
  const schemaErrors = composeSchemaErrors(compose);
  check(schemaErrors.length === 0, () => `compose.yaml breaks the Compose schema: ${show(schemaErrors.slice(0, 3))}`);
  check(compose.name === expected.projectName, () => `compose name ${show(compose.name)}`);
  const serviceNames = ['nginx', 'backend', 'postgres', ...(expected.redis ? ['redis'] : [])];
  check(
    show(Object.keys(compose.services)) === show(serviceNames),
    () => `services ${show(Object.keys(compose.services))}`,
  );
  const ports = compose.services['nginx']!.ports ?? [];
  // On the answered address: none for "*", an IPv6 one in brackets (Compose's short syntax).
  const host =
    answers.bindAddress === '*'
      ? ''
      : answers.bindAddress.includes(':')
        ? `[${answers.bindAddress}]:`
        : `${answers.bindAddress}:`;
  const tls = expected.tls !== 'off';
  const wantedPorts = [`${host}${expected.httpPort}:8080`, ...(tls ? [`${host}${expected.httpsPort}:8443`] : [])];
  check(
    show(ports) === show(wantedPorts),
    () => `nginx ports ${show(ports)} (bindAddress ${show(answers.bindAddress)}, tls ${expected.tls})`,
  );
  checkTlsFiles('compose.yaml', compose, files.get('.gitignore')!, expected);
  for (const name of serviceNames) {
    const service = compose.services[name]!;
    check(
      service.deploy?.resources?.limits?.memory === expected.memory[name],
      () => `${name} memory ${show(service.deploy)} (expected ${expected.memory[name]})`,
    );
    check(
      typeof service.image === 'string' &&
        IMAGE_REFERENCE.test(service.image) &&
        service.image.split('@')[0]!.length <= 255,
      () => `${name} image ${show(service.image)} is not a valid image reference`,
    );
    // A tag can be pushed again; a digest cannot. The backend is built here, from a pinned FROM.
    check(
      name === 'backend' || /@sha256:[0-9a-f]{64}$/.test(String(service.image)),
      () => `${name} image ${show(service.image)} carries no digest`,
    );
  }
  // The backend logs in as dbUser; PostgreSQL's POSTGRES_USER is the owner, and the roles script makes dbUser.
  const backendEnvironment = compose.services['backend']!.environment ?? {};
  check(
    backendEnvironment['POSTGRES_DB'] === expected.dbName && backendEnvironment['POSTGRES_USER'] === expected.dbUser,
    () => `backend environment ${show(backendEnvironment)}`,
  );
  const postgresEnvironment = compose.services['postgres']!.environment ?? {};
  check(
    postgresEnvironment['POSTGRES_DB'] === expected.dbName &&
      postgresEnvironment['POSTGRES_USER'] === 'db_owner' &&
      postgresEnvironment['APP_DB_USER'] === expected.dbUser,
    () => `postgres environment ${show(postgresEnvironment)}`,
  );
  const test = (name: string) => compose.services[name]!.healthcheck?.test ?? [];
  check(
    test('postgres').includes(`--username=${expected.dbUser}`) &&
      test('postgres').includes(`--dbname=${expected.dbName}`),
    () => `postgres healthcheck ${show(test('postgres'))}`,
  );
  check(
    test('nginx').at(-1) === 'http://127.0.0.1:8081/nginx-health',
    () => `nginx healthcheck ${show(test('nginx'))}`,
  );
  const probe = test('backend')[test('backend').indexOf('-c') + 1] ?? '';
  check(probe.includes(`'Host': '${expected.serverName}'`), () => `backend healthcheck ${show(probe)}`);
  // Compose interpolates $VAR and ${VAR} in every value; only "$$" (a literal "$") may appear.
  check(!composeText.replaceAll('$$', '').includes('$'), () => 'compose.yaml has a "$" Compose would interpolate');

  // 3. nginx.conf: the placeholder render's statements, one exact and one prefix location per route.
  const config = files.get('nginx/nginx.conf')!;
  const tokens = nginxTokens(config);
  const wantedTokens = nginxTokens(reference.get('nginx/nginx.conf')!).map(placeholder.substitute);
  check(show(tokens) === show(wantedTokens), () => 'nginx.conf tokens differ from the placeholder render');
  const statements = nginxStatements(tokens);
  const locations = statements.filter((s) => s.words[0] === 'location').map((s) => s.words.slice(1).join(' '));
  const routes = expected.routes.map((route) => route.path);
  const fixed = locations.filter(
    (location) => !routes.some((path) => location === `= ${path}` || location === `${path}/`),
  );
  check(
    show(locations.filter((l) => !fixed.includes(l))) === show(routes.flatMap((path) => [`= ${path}`, `${path}/`])),
    () => `route locations ${show(locations)}`,
  );
  // The loopback listener's (nginx's and the backend's health), then in the public server the
  // refused nginx health path and, with publicHealth only, the backend's.
  // With TLS, a plain-HTTP server between them redirects everything to HTTPS.
  const publicHealth = answers.publicHealth ? ['= /health/'] : [];
  const redirect = tls ? ['/'] : [];
  check(
    show(fixed) === show(['= /nginx-health', '= /health/', '/', ...redirect, '= /nginx-health', ...publicHealth, '/']),
    () => `fixed locations ${show(fixed)}`,
  );
  check(
    statements.filter((s) => s.words[0] === 'proxy_pass').length === 1 + publicHealth.length + 2 * routes.length,
    () => 'proxy_pass count',
  );
  check(
    statements.filter((s) => s.words[0] === 'server' && s.context === 'http').length === 3 + redirect.length,
    () => 'server block count',
  );
  const serverNames = statements.filter((s) => s.words[0] === 'server_name').map((s) => s.words.slice(1));
  check(
    show(serverNames) === show([['_'], ...redirect.map(() => [expected.serverName]), [expected.serverName]]),
    () => `server_name ${show(serverNames)}`,
  );
  checkHttps(statements, expected);

  // 4. The Swarm target, exactly when asked for.
  const stackText = files.get('stack.yaml');
  check(
    (stackText !== undefined) === expected.swarm && files.has('nginx/nginx.swarm.conf') === expected.swarm,
    () => `swarm ${expected.swarm} but stack files ${show([...files.keys()].filter((p) => /stack|swarm/.test(p)))}`,
  );
  if (stackText !== undefined)
    checkSwarmTarget(stackText, files.get('nginx/nginx.swarm.conf')!, serviceNames, expected, answers.publicHealth);

  // 5. Python, compiled later in one batch.
  const python: Record<string, string> = { 'healthcheck-probe.py': probe };
  for (const [path, content] of files) if (path.endsWith('.py')) python[path] = content;
  return { files: python, expected: { routes, allowedHosts: [expected.serverName] } };
}
