/**
 * gixy's checks that apply to the nginx.conf we generate, as rules over the parsed configuration
 * (gixy itself is not packaged for Debian 12). Each rule is named after the gixy plugin it
 * mirrors, and flags what that plugin flags; where gixy analyses a regex, the rule is stricter.
 */
import type { Finding } from './findings.js';
import { parseNginxConfig, type NginxDirective } from './nginx-config.js';

export const NGINX_CONFIG_PATH = 'nginx/nginx.conf';

/** A directive, the blocks around it (innermost last), and the whole configuration. */
interface Visit {
  directive: NginxDirective;
  parents: readonly NginxDirective[];
  config: readonly NginxDirective[];
  /** Names of the named captures, `(?<name>...)`, anywhere in the configuration. */
  namedCaptures: ReadonlySet<string>;
}

interface NginxRule {
  /** gixy's plugin name. */
  id: string;
  /** Messages for what is wrong at this directive; empty when nothing is. */
  check(visit: Visit): string[];
}

const VARIABLE = /\$(?:\{(\w+)\}|(\w+))/g;

function variablesIn(text: string): string[] {
  return [...text.matchAll(VARIABLE)].map((match) => match[1] ?? match[2]!);
}

function isCapture(name: string, visit: Visit): boolean {
  return /^\d$/.test(name) || visit.namedCaptures.has(name);
}

/** Variables whose value the client chooses: gixy's "can contain untrusted user input". */
function isRequestDerived(name: string, visit: Visit, seen: ReadonlySet<string> = new Set()): boolean {
  return (
    ['uri', 'document_uri', 'request_uri', 'args', 'query_string', 'request', 'request_body', 'host'].includes(name) ||
    /^(?:arg|http|cookie)_/.test(name) ||
    isCapture(name, visit) ||
    // gixy follows `set`: a variable set from a request-derived one is request-derived too.
    (!seen.has(name) &&
      setValues(visit.config, name).some((value) =>
        variablesIn(value).some((used) => isRequestDerived(used, visit, new Set([...seen, name]))),
      ))
  );
}

/** The values `set $name ...` gives the variable anywhere in the configuration. */
function setValues(config: readonly NginxDirective[], name: string): string[] {
  return [...walk(config)]
    .filter(({ directive }) => directive.name === 'set' && directive.args[0] === `$${name}`)
    .map(({ directive }) => directive.args[1] ?? '');
}

function isLocation(directive: NginxDirective): boolean {
  return directive.name === 'location' && directive.children !== undefined;
}

function nearestLocation(parents: readonly NginxDirective[]): NginxDirective | undefined {
  return [...parents].reverse().find(isLocation);
}

const host_spoofing: NginxRule = {
  id: 'host_spoofing',
  check({ directive }) {
    if (directive.name !== 'proxy_set_header' || directive.args[0]?.toLowerCase() !== 'host') return [];
    const value = directive.args[1] ?? '';
    const spoofable = variablesIn(value).filter((name) => /^(?:http|arg)_/.test(name));
    return spoofable.length === 0
      ? []
      : [`proxy_set_header Host ${value}: the backend gets a Host the client chose ($${spoofable[0]})`];
  },
};

function addedHeaders(block: NginxDirective): Set<string> {
  return new Set(
    (block.children ?? [])
      .filter((child) => child.name === 'add_header')
      .map((child) => child.args[0]?.toLowerCase() ?? ''),
  );
}

/** nginx inherits add_header into a block only when the block has none of its own. */
const add_header_redefinition: NginxRule = {
  id: 'add_header_redefinition',
  check({ directive, parents }) {
    if (directive.children === undefined) return [];
    const own = addedHeaders(directive);
    if (own.size === 0) return [];
    const parent = [...parents].reverse().find((block) => addedHeaders(block).size > 0);
    if (parent === undefined) return [];
    const lost = [...addedHeaders(parent)].filter((header) => !own.has(header));
    if (lost.length === 0) return [];
    const block = [directive.name, ...directive.args].join(' ');
    return [`"${block}" has add_header, so it drops ${lost.join(', ')} set in "${parent.name}" (line ${parent.line})`];
  },
};

const alias_traversal: NginxRule = {
  id: 'alias_traversal',
  check({ directive, parents }) {
    if (directive.name !== 'alias') return [];
    const location = nearestLocation(parents);
    if (location === undefined) return [];
    const [first, second] = location.args;
    const prefix = second === undefined ? first : first === '^~' ? second : undefined;
    const alias = directive.args[0] ?? '';
    if (prefix === undefined || prefix.endsWith('/') || !alias.endsWith('/')) return [];
    return [`location ${prefix} (no trailing slash) with alias ${alias}: ${prefix}../ reaches the parent of ${alias}`];
  },
};

const ssrf: NginxRule = {
  id: 'ssrf',
  check(visit) {
    const { directive, parents } = visit;
    if (directive.name !== 'proxy_pass') return [];
    // gixy skips internal locations: only nginx itself can route a request there.
    if (nearestLocation(parents)?.children?.some((child) => child.name === 'internal')) return [];
    const url = directive.args[0] ?? '';
    // The scheme and host, where a variable picks the server nginx connects to (gixy's parse_uri_re);
    // a variable that always starts with "/" begins the path (gixy's must_contain('/')).
    const hostEnd = url.search(/\$\{?(?:request_uri|uri|document_uri)\b/);
    const schemeAndHost = /^(?:[^?#/)]+:\/\/)?[^?#/)]+/.exec(hostEnd === -1 ? url : url.slice(0, hostEnd))?.[0] ?? '';
    const untrusted = variablesIn(schemeAndHost).filter((name) => isRequestDerived(name, visit));
    return untrusted.length === 0 ? [] : [`proxy_pass ${url}: the client chooses the server through $${untrusted[0]}`];
  },
};

/** The argument each directive sends on, as gixy's http_splitting reads it. */
const SPLITTING_VALUE: Record<string, (args: string[]) => string | undefined> = {
  add_header: (args) => args[1],
  proxy_set_header: (args) => args[1],
  proxy_pass: (args) => args[0],
  rewrite: (args) => args[1],
  return: (args) => args[args.length - 1],
};

/** The regex whose captures $1... and named captures refer to at this directive. */
function captureRegex({ directive, parents }: Visit): string | undefined {
  if (directive.name === 'rewrite') return directive.args[0];
  const location = [...parents]
    .reverse()
    .find((block) => isLocation(block) && ['~', '~*'].includes(block.args[0] ?? ''));
  return location?.args[1];
}

/** The text of a capture group: numbered groups count unescaped "(" not followed by "?". */
function captureGroup(regex: string, name: string): string | undefined {
  const opening = /^\d$/.test(name)
    ? [...regex.matchAll(/(?<!\\)\((?!\?)/g)][Number(name) - 1]?.index
    : new RegExp(`\\(\\?P?<${name}>`).exec(regex)?.index;
  if (opening === undefined) return undefined;
  let depth = 0;
  for (let index = opening; index < regex.length; index++) {
    if (regex[index] === '\\') index++;
    else if (regex[index] === '(') depth++;
    else if (regex[index] === ')' && --depth === 0) return regex.slice(opening, index + 1);
  }
  return regex.slice(opening);
}

/** A decoded URI can hold %0A; "." never matches it in nginx's PCRE, negated classes and \s do. */
function canContainNewline(variable: string, visit: Visit): boolean {
  if (variable === 'uri' || variable === 'document_uri') return true;
  if (!isCapture(variable, visit)) return false;
  const regex = captureRegex(visit);
  const group = regex === undefined ? undefined : captureGroup(regex, variable);
  if (regex === undefined || group === undefined) return true;
  return /\(\?[a-z]*s/.test(regex) || /\[\^(?![^\]]*\\n)|\\[sWDHV]|\\N/.test(group);
}

const http_splitting: NginxRule = {
  id: 'http_splitting',
  check(visit) {
    const value = SPLITTING_VALUE[visit.directive.name]?.(visit.directive.args);
    if (value === undefined) return [];
    const splitting = variablesIn(value).filter((variable) => canContainNewline(variable, visit));
    if (splitting.length === 0) return [];
    return [`${visit.directive.name} ${value}: $${splitting[0]} can carry a decoded newline into the header`];
  },
};

const version_disclosure: NginxRule = {
  id: 'version_disclosure',
  check({ directive, config }) {
    if (directive.name === 'server_tokens' && directive.args[0] !== 'off') {
      return [`server_tokens ${directive.args.join(' ')}: nginx's version is in its Server header and error pages`];
    }
    // Without server_tokens at http level every server keeps nginx's default, on.
    const http = directive.name === 'http' && config.includes(directive) && directive.children;
    if (http && !http.some((child) => child.name === 'server_tokens')) {
      return ["no server_tokens off at http level: nginx's default (on) discloses its version"];
    }
    return [];
  },
};

const add_header_multiline: NginxRule = {
  id: 'add_header_multiline',
  check({ directive }) {
    if (directive.name !== 'add_header' || !/\n/.test(directive.args[1] ?? '')) return [];
    return [
      `add_header ${directive.args[0] ?? ''}: a value spanning lines is a folded header, which clients reject or misread`,
    ];
  },
};

/** Each rule keeps the name of the gixy plugin it mirrors, as its findings do. */
export const NGINX_RULES: readonly NginxRule[] = [
  host_spoofing,
  add_header_redefinition,
  alias_traversal,
  ssrf,
  http_splitting,
  version_disclosure,
  add_header_multiline,
];

type Placed = Pick<Visit, 'directive' | 'parents'>;

function* walk(directives: readonly NginxDirective[], parents: readonly NginxDirective[] = []): Generator<Placed> {
  for (const directive of directives) {
    yield { directive, parents };
    if (directive.children) yield* walk(directive.children, [...parents, directive]);
  }
}

function namedCapturesIn(config: readonly NginxDirective[]): Set<string> {
  const names = new Set<string>();
  for (const { directive } of walk(config)) {
    for (const argument of directive.args) {
      for (const match of argument.matchAll(/\(\?P?<(\w+)>/g)) names.add(match[1]!);
    }
  }
  return names;
}

/** Findings of every rule on one nginx configuration; `path` names it in each finding's location. */
export function auditNginxConfig(text: string, path = NGINX_CONFIG_PATH): Finding[] {
  const config = parseNginxConfig(text);
  const namedCaptures = namedCapturesIn(config);
  const findings: Finding[] = [];
  for (const placed of walk(config)) {
    const visit: Visit = { ...placed, config, namedCaptures };
    for (const rule of NGINX_RULES) {
      for (const message of rule.check(visit)) {
        findings.push({ scanner: 'nginx-rules', id: rule.id, location: `${path}:${visit.directive.line}`, message });
      }
    }
  }
  return findings;
}
