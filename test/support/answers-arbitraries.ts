/**
 * fast-check arbitraries over the whole answers schema: for every field, values the rules accept
 * (including their edges) and values they must reject (mutations of valid ones with hostile
 * characters, look-alikes, wrong types, out-of-range numbers), placed on the command line, in the
 * answers file, or both. Whether a value is valid is decided by test/support/answers-oracle.ts, never here.
 */
import fc from 'fast-check';
import { FIELD_KEYS, type Key } from './answers-oracle.js';

/** Characters and fragments that could inject into YAML, nginx, Python, shell, EJS or a terminal. */
export const HOSTILE_FRAGMENTS = [
  '\n',
  '\r',
  '\r\n',
  ';',
  '{',
  '}',
  '#',
  "'",
  '"',
  '$',
  '`',
  '${VAR}',
  '$$',
  '$(id)',
  '<%',
  '%>',
  '<%-',
  '\\',
  ' ',
  '\t',
  '\u0000',
  '\u202e',
  '\u200f',
  '\u200e',
  '\u061c',
  '\u2066',
  '\u2028',
  '\u0085',
  '\u00a0',
  '\ufeff',
  '\u0430' /* Cyrillic a */,
  '\u043e' /* Cyrillic o */,
  '\uff0f' /* fullwidth / */,
  '\u212a' /* Kelvin K */,
  '\u017f' /* long s */,
  '\u0130' /* I with dot */,
  '\ud800' /* lone surrogate */,
  '\u{1f600}',
  ':',
  ',',
  '/',
  '//',
  '.',
  '..',
  '~',
  '*',
  '?',
  '&',
  '|',
  '>',
  '<',
  '!',
  '%',
  '@',
  '=',
  '[',
  ']',
  '-',
  '_',
  'location / {',
  ' proxy_pass http://evil;',
  '\n  evil: x',
  '"; import os #',
  'yes',
  'null',
  '~',
] as const;

const fragment = fc.constantFrom(...HOSTILE_FRAGMENTS);
const hostileString = fc
  .array(fc.oneof({ arbitrary: fragment, weight: 3 }, { arbitrary: fc.string({ maxLength: 4 }), weight: 1 }), {
    maxLength: 8,
  })
  .map((parts) => parts.join(''));
const longString = fc
  .tuple(fc.constantFrom('a', 'A', '-', '_', '/a', '9', '\u0430', 'x.'), fc.integer({ min: 60, max: 3000 }))
  .map(([unit, times]) => unit.repeat(times));

/** A valid-looking value with a hostile fragment inserted, a letter swapped for a look-alike, or its case flipped. */
function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(valid, fragment, fc.nat()).map(([value, inserted, at]) => {
      const i = at % (value.length + 1);
      return value.slice(0, i) + inserted + value.slice(i);
    }),
    valid.map((value) => value.replace(/[aoeK]/, (c) => ({ a: '\u0430', o: '\u043e', e: '\u0435', K: '\u212a' })[c]!)),
    valid.map((value) => value.toUpperCase()),
    valid.map((value) => ` ${value}`),
  );
}

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);

interface FieldArbitraries {
  /** Values the README's rules accept. */
  valid: fc.Arbitrary<unknown>;
  /** Values on either side of a rule's edge (the oracle decides which side). */
  edge: fc.Arbitrary<unknown>;
  /** Values that must be rejected (or, for hostile text, almost always are). */
  invalidText: fc.Arbitrary<unknown>;
}

/** Text a user could type: valid values, edge cases, then everything that must not get through. */
function textField(
  valid: fc.Arbitrary<string>,
  edges: string[],
  looseValid?: fc.Arbitrary<string>,
): FieldArbitraries & { valid: fc.Arbitrary<string> } {
  return {
    valid,
    edge: fc.constantFrom(...edges),
    invalidText: fc.oneof(mutated(valid), hostileString, longString, ...(looseValid ? [looseValid] : [])),
  };
}

const projectName = textField(
  fc.stringMatching(/^[a-z0-9]{1,10}(?:(?:_|__|-{1,3})[a-z0-9]{1,10}){0,4}-{0,2}$/),
  [
    'a'.repeat(63),
    'a'.repeat(64),
    'shop_',
    'shop_-x',
    'shop-_x',
    'shop___x',
    'shop__x',
    'shop-',
    '0',
    '-shop',
    '_shop',
    '',
  ],
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,15}$/),
);
const pgIdentifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
const dbName = textField(pgIdentifier, ['d'.repeat(63), 'd'.repeat(64), '_', '1db', 'pg_data', '']);
const dbUser = textField(
  pgIdentifier.filter((name) => !/^pg_/i.test(name) && name !== 'db_owner'),
  ['u'.repeat(63), 'u'.repeat(64), 'pg_x', 'PG_x', 'pgx', '', 'db_owner', 'DB_OWNER'],
  fc.stringMatching(/^[pP][gG]_?[a-z0-9_]{0,5}$/),
);
const label = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?$/);
const hostName = fc
  .oneof(
    fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
    fc.domain({ size: 'small' }),
  )
  .filter((name) => name.length <= 253);
const longHost = (length: number) =>
  ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(length - 192)].join('.');
const serverName = textField(
  hostName,
  [
    `${'a'.repeat(40)}.exam`,
    `${'a'.repeat(40)}.examp`,
    `${'a'.repeat(41)}.examp`,
    longHost(253),
    longHost(254),
    `${'x'.repeat(63)}.io`,
    `${'x'.repeat(64)}.io`,
    'localhost',
    'LOCALHOST',
    '1.2.3.4',
    'example.com.',
    '-x.example',
    'x-.example',
    'a..b',
    '_',
    '*.example',
    '\u212aey.example',
    'shop.ex\u0430mple',
    '',
  ],
  fc.domain(),
);

const portFile: FieldArbitraries = {
  valid: fc.integer({ min: 1, max: 65535 }),
  edge: fc.constantFrom(
    0,
    1,
    65535,
    65536,
    -1,
    80.5,
    -0,
    1e300,
    8080.0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.MAX_SAFE_INTEGER + 2,
  ),
  invalidText: fc.oneof(
    fc.integer({ min: -100_000, max: 200_000 }),
    fc.double(),
    fc.constantFrom('8080', '80', true, null),
  ),
};
const portFlag: FieldArbitraries = {
  valid: fc.oneof(
    fc.integer({ min: 1, max: 65535 }).map(String),
    fc.integer({ min: 1, max: 65535 }).map((n) => `00${n}`),
  ),
  edge: fc.constantFrom('0', '1', '65535', '65536', '000080', '99999999999999999999'),
  invalidText: fc.oneof(
    fc.integer({ min: -100_000, max: 200_000 }).map(String),
    mutated(fc.integer({ min: 1, max: 65535 }).map(String)),
    fc.constantFrom(
      '',
      '-1',
      ' 80',
      '80 ',
      '+80',
      '0x50',
      '8080\n',
      '1e3',
      '80.0',
      '\u0668\u0660' /* Arabic-Indic 80 */,
    ),
  ),
};

const booleanFile: FieldArbitraries = {
  valid: fc.boolean(),
  edge: fc.constantFrom('true', 'false'),
  invalidText: fc.constantFrom('yes', 1, 0, null, 'on', []),
};
const booleanFlag: FieldArbitraries = {
  valid: fc.boolean(),
  edge: fc.constantFrom('true', 'false'),
  invalidText: fc.constantFrom('yes', ''),
};

const replicasFile: FieldArbitraries = {
  valid: fc.integer({ min: 1, max: 32 }),
  edge: fc.constantFrom(0, 1, 32, 33, -1, 1.5, -0, 3.0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53),
  invalidText: fc.oneof(fc.integer({ min: -100, max: 1000 }), fc.double(), fc.constantFrom('3', '1', true, null)),
};
const replicasFlag: FieldArbitraries = {
  valid: fc.oneof(
    fc.integer({ min: 1, max: 32 }).map(String),
    fc.integer({ min: 1, max: 32 }).map((n) => `0${n}`),
  ),
  edge: fc.constantFrom('0', '1', '32', '33', '032', '99999999999999999999'),
  invalidText: fc.oneof(
    fc.integer({ min: -100, max: 1000 }).map(String),
    mutated(fc.integer({ min: 1, max: 32 }).map(String)),
    fc.constantFrom('', '-1', ' 3', '3 ', '+3', '0x3', '3\n', '1e1', '3.0', '\u0663'),
  ),
};

const bindAddress = textField(
  // "*" most often: any other address and swarm together are refused, and accepted sets must stay the many.
  fc.oneof(
    { arbitrary: fc.constant('*'), weight: 4 },
    { arbitrary: fc.ipV4(), weight: 1 },
    { arbitrary: fc.ipV6(), weight: 1 },
    { arbitrary: fc.ipV6().map((address) => address.toUpperCase()), weight: 1 },
  ),
  [
    '0.0.0.0',
    '127.0.0.1',
    '::',
    '::1',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '[::1]',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '::ffff:1.2.3.4',
    '::ffff:01.2.3.4',
    '1:2:3:4:5:6:7::',
    'localhost',
    '**',
    '',
    ' 127.0.0.1',
    '127.0.0.1:8080',
  ],
);

const RESTART_POLICIES = ['unless-stopped', 'always', 'on-failure', 'no'];
const restartPolicy = textField(fc.constantFrom(...RESTART_POLICIES), [
  'No',
  'NO',
  'false',
  'always ',
  'unless_stopped',
  'on-failure:3',
  'on_failure',
  'never',
  '',
]);

const rateFile: FieldArbitraries = {
  valid: fc.integer({ min: 1, max: 100_000 }),
  edge: fc.constantFrom(0, 1, 100_000, 100_001, -1, 20.5, -0, 1e300, Number.NaN, Number.POSITIVE_INFINITY),
  invalidText: fc.oneof(fc.integer({ min: -1000, max: 1_000_000 }), fc.double(), fc.constantFrom('20', true, null)),
};
const rateFlag: FieldArbitraries = {
  valid: fc.oneof(
    fc.integer({ min: 1, max: 100_000 }).map(String),
    fc.integer({ min: 1, max: 100_000 }).map((n) => `0${n}`),
  ),
  edge: fc.constantFrom('0', '1', '100000', '100001', '0020', '99999999999999999999'),
  invalidText: fc.oneof(
    fc.integer({ min: -1000, max: 1_000_000 }).map(String),
    mutated(fc.integer({ min: 1, max: 100_000 }).map(String)),
    fc.constantFrom('', '-1', ' 20', '20 ', '+20', '0x14', '20\n', '2e1', '20.0', '\u0662\u0660'),
  ),
};

/** CPUs: hundredths from 0.01 to 256, null for none; the edges around both ends and in binary floating point. */
const cpusValid = fc.oneof(
  fc.integer({ min: 1, max: 25_600 }).map((hundredths) => hundredths / 100),
  fc.constant(null),
);
const cpusFile: FieldArbitraries = {
  valid: cpusValid,
  edge: fc.constantFrom(
    0.01,
    0.29,
    0.57,
    1.15,
    256,
    0,
    0.009,
    0.001,
    256.01,
    257,
    -1,
    0.125,
    1e-7,
    1e21,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
  invalidText: fc.oneof(fc.double({ min: -10, max: 300 }), fc.constantFrom('0.5', '1', true, 'null', [])),
};
const cpusFlag: FieldArbitraries = {
  valid: fc
    .integer({ min: 1, max: 25_600 })
    .map((hundredths) =>
      hundredths % 100 === 0 ? String(hundredths / 100) : (hundredths / 100).toFixed(hundredths % 10 === 0 ? 1 : 2),
    ),
  edge: fc.constantFrom(
    '0.01',
    '0.29',
    '256',
    '256.00',
    '256.01',
    '0',
    '0.0',
    '0.001',
    '.5',
    '5.',
    '0.50',
    '00.5',
    '1e1',
    'null',
    '',
  ),
  invalidText: fc.oneof(
    mutated(fc.constantFrom('0.5', '1', '2.25')),
    fc.constantFrom('-1', ' 1', '1 ', '+1', '0x1', '1,5', '\u0661'),
  ),
};

const unitSpelling = (unit: string) =>
  fc.constantFrom(unit, unit.toUpperCase(), `${unit}b`, `${unit.toUpperCase()}B`, `${unit}B`, `${unit.toUpperCase()}b`);
const memoryValid = fc
  .oneof(
    fc.tuple(fc.integer({ min: 128, max: 8192 }), unitSpelling('m')),
    fc.tuple(fc.integer({ min: 1, max: 1024 }), unitSpelling('g')),
    fc.tuple(fc.integer({ min: 131_072, max: 8_388_608 }), unitSpelling('k')),
    fc.tuple(fc.integer({ min: 134_217_728, max: 2 ** 40 }), fc.constantFrom('b', 'B')),
  )
  .map(([amount, unit]) => `${amount}${unit}`);
const memoryEdges = [
  '16m',
  '15m',
  '128m',
  '127m',
  '1024g',
  '1025g',
  '1099511627776b',
  '1099511627777b',
  '134217728b',
  '134217727b',
  '1G',
  '512MB',
  '16384k',
  '16383k',
  '1.5g',
  '0m',
  '064m',
  '-1m',
  ' 64m',
  '64m ',
  '64',
  'm',
  '64 m',
  '64mib',
  '1e3m',
  '99999999g',
  '9999999999999g',
  '99999999999999999999m',
  '${MEM}',
  '64m;',
  '64\u212a',
];
const memory = textField(memoryValid, memoryEdges);
// Bodies from 1k to 16m: most fit the /tmp of most nginx budgets (a quarter of memory.nginx), some not.
const bodyValid = fc
  .oneof(
    fc.tuple(fc.integer({ min: 1, max: 16_384 }), unitSpelling('k')),
    fc.tuple(fc.integer({ min: 1, max: 16 }), unitSpelling('m')),
    fc.tuple(fc.integer({ min: 1024, max: 16 * 2 ** 20 }), fc.constantFrom('b', 'B')),
  )
  .map(([amount, unit]) => `${amount}${unit}`);
const maxBody = textField(bodyValid, [
  '1k',
  '1023b',
  '1024b',
  '12m',
  '13m',
  '64m',
  '65m',
  '1g',
  '0k',
  '1.5m',
  '10 m',
  '10mib',
  '-1m',
  '${BODY}',
  '10m;',
  '',
]);

const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/);
const routePath = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segments, slash]) => `/${segments.join('/')}${slash ? '/' : ''}`);
const routeEdges = [
  '/api/',
  '/API',
  '/health',
  '/health/x',
  '/Health',
  '/nginx-health',
  '/nginx-healthz',
  '/',
  '//x',
  '/../etc',
  '/a/./b',
  '/...',
  '/~user',
  'api',
  `/${'a'.repeat(199)}`,
  `/${'a'.repeat(200)}`,
  '/api\uff0fadmin',
  '/a b',
  '/a%2e%2e',
];
const routePathArb = textField(routePath, routeEdges);
const bigRouteList = fc.constantFrom(500, 501).map((count) => Array.from({ length: count }, (_, i) => `/r${i}`));

/** Routes in a file: strings or { path } objects, sometimes repeating an earlier one in another spelling. */
function routesFile(invalidWeight: number): FieldArbitraries {
  const item = (pathArb: fc.Arbitrary<unknown>) =>
    fc.tuple(pathArb, fc.boolean()).map(([path, asObject]) => (asObject ? { path } : path));
  const list = (pathArb: fc.Arbitrary<unknown>) =>
    fc
      .tuple(fc.array(item(pathArb), { maxLength: 6 }), fc.constantFrom('none', 'none', 'none', 'upper', 'slash'))
      .map(([items, duplicate]) => {
        const first = items.find((i): i is string => typeof i === 'string' && i.length > 1);
        if (first && duplicate === 'upper') return [...items, first.toUpperCase()];
        if (first && duplicate === 'slash') return [...items, first.endsWith('/') ? first.slice(0, -1) : `${first}/`];
        return items;
      });
  const uniqueList = fc
    .uniqueArray(fc.tuple(routePathArb.valid, fc.boolean()), {
      maxLength: 6,
      selector: ([path]) => path.replace(/\/$/, '').toLowerCase(),
    })
    .map((items) => items.map(([path, asObject]) => (asObject ? { path } : path)));
  const mixedPath = fc.oneof(
    { arbitrary: routePathArb.valid, weight: 10 },
    { arbitrary: fc.oneof(routePathArb.edge, routePathArb.invalidText), weight: invalidWeight },
  );
  return {
    // 500 routes are slow to check (4000 nginx lines): rare, but there.
    valid: fc.oneof({ arbitrary: uniqueList, weight: 150 }, { arbitrary: bigRouteList, weight: 1 }),
    edge: fc.oneof(list(routePathArb.edge), fc.constantFrom([], '/api', null)),
    invalidText: fc.oneof(
      list(mixedPath),
      fc.array(
        fc.oneof(wrongType, fc.constant({ path: '/a', upstream: 'x' }), fc.constant({}), fc.constant({ path: 1 })),
        { minLength: 1, maxLength: 2 },
      ),
      fc.constantFrom('/api', {}, null, 42),
    ),
  };
}
function routesFlag(invalidWeight: number): FieldArbitraries {
  const file = routesFile(invalidWeight);
  const joined = (arb: fc.Arbitrary<unknown>) =>
    arb
      .filter(Array.isArray)
      .map((items) =>
        (items as unknown[])
          .map((i) => (typeof i === 'string' ? i : String((i as { path?: unknown })?.path)))
          .join(','),
      );
  return {
    valid: joined(file.valid),
    edge: fc.oneof(joined(file.edge), fc.constantFrom('', ',,', '/a,,/b', '/api,/API')),
    invalidText: fc.oneof(joined(file.invalidText), hostileString),
  };
}

const TLS_MODES = ['off', 'self-signed', 'provided'];
// "off" most often, "provided" least: provided needs both files, and accepted sets must stay the many.
const tlsMode = textField(
  fc.oneof(
    { arbitrary: fc.constant('off'), weight: 3 },
    { arbitrary: fc.constant('self-signed'), weight: 2 },
    { arbitrary: fc.constant('provided'), weight: 2 },
  ),
  [
    'Off',
    'OFF',
    'on',
    'true',
    'false',
    'self_signed',
    'selfsigned',
    'Self-Signed',
    'provided ',
    'letsencrypt',
    '',
    ...TLS_MODES,
  ],
);

const pathSegment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,12}$/);
const tlsPathValid = fc
  .tuple(fc.boolean(), fc.array(pathSegment, { minLength: 1, maxLength: 4 }))
  .map(([absolute, segments]) => `${absolute ? '/' : ''}${segments.join('/')}`);
const tlsPathText = textField(tlsPathValid, [
  'a'.repeat(255),
  'a'.repeat(256),
  `/${'a'.repeat(254)}`,
  `/${'a'.repeat(255)}`,
  '/',
  '.',
  '..',
  './cert.pem',
  'certs/../key.pem',
  '../key.pem',
  '/etc/ssl/../shadow',
  '.hidden.pem',
  'certs/.key',
  '-key.pem',
  'certs/-k',
  'certs//k.pem',
  'certs/',
  'C:\\certs\\k.pem',
  '~/k.pem',
  'k.pem ',
  'cert s/k',
  'null',
  '',
]);
// Mostly a path: tls "provided" needs both, and accepted sets must stay the many.
const tlsPath: FieldArbitraries = {
  ...tlsPathText,
  valid: fc.oneof({ arbitrary: tlsPathValid, weight: 12 }, { arbitrary: fc.constant(null), weight: 1 }),
};
const tlsPathFlag: FieldArbitraries = tlsPathText;

// Rarely true: it needs tls "provided" and both its files.
const hstsPreloadFile: FieldArbitraries = {
  ...booleanFile,
  valid: fc.oneof({ arbitrary: fc.constant(false), weight: 6 }, { arbitrary: fc.constant(true), weight: 1 }),
};
const hstsPreloadFlag: FieldArbitraries = { ...booleanFlag, valid: hstsPreloadFile.valid };
// The default httpPort among the edges: HTTPS on the HTTP port is a rule across answers.
const httpsPortFile: FieldArbitraries = { ...portFile, edge: fc.oneof(portFile.edge, fc.constantFrom(8080, 443)) };
const httpsPortFlag: FieldArbitraries = { ...portFlag, edge: fc.oneof(portFlag.edge, fc.constantFrom('8080', '443')) };

type ArbitrariesFor = (origin: 'file' | 'flag', invalidWeight: number) => FieldArbitraries;
const byOrigin =
  (file: FieldArbitraries, flag: FieldArbitraries): ArbitrariesFor =>
  (origin) =>
    origin === 'file' ? file : flag;
const always =
  (arbitraries: FieldArbitraries): ArbitrariesFor =>
  () =>
    arbitraries;

/** The arbitraries of every answer; a table typed by Key, so an answer without them does not compile. */
export const FIELD_ARBITRARIES: Record<Key, ArbitrariesFor> = {
  projectName: always(projectName),
  dbName: always(dbName),
  dbUser: always(dbUser),
  serverName: always(serverName),
  httpPort: byOrigin(portFile, portFlag),
  redis: byOrigin(booleanFile, booleanFlag),
  restart: always(restartPolicy),
  bindAddress: always(bindAddress),
  rateLimit: byOrigin(rateFile, rateFlag),
  tls: always(tlsMode),
  tlsCert: byOrigin(tlsPath, tlsPathFlag),
  tlsKey: byOrigin(tlsPath, tlsPathFlag),
  httpsPort: byOrigin(httpsPortFile, httpsPortFlag),
  hstsPreload: byOrigin(hstsPreloadFile, hstsPreloadFlag),
  publicHealth: byOrigin(booleanFile, booleanFlag),
  'memory.nginx': always(memory),
  'memory.backend': always(memory),
  'memory.postgres': always(memory),
  'memory.redis': always(memory),
  'cpus.nginx': byOrigin(cpusFile, cpusFlag),
  'cpus.backend': byOrigin(cpusFile, cpusFlag),
  'cpus.postgres': byOrigin(cpusFile, cpusFlag),
  'cpus.redis': byOrigin(cpusFile, cpusFlag),
  maxBodySize: always(maxBody),
  routes: (origin, invalidWeight) => (origin === 'file' ? routesFile(invalidWeight) : routesFlag(invalidWeight)),
  swarm: byOrigin(booleanFile, booleanFlag),
  backendReplicas: byOrigin(replicasFile, replicasFlag),
};

/** One field's raw value: valid, an edge case, or invalid text or (in a file) a value of the wrong type. */
export function rawValue(key: Key, origin: 'file' | 'flag', weights: CaseOptions): fc.Arbitrary<unknown> {
  const { valid, edge, invalidText } = FIELD_ARBITRARIES[key](origin, weights.invalidWeight);
  const invalid =
    origin === 'file'
      ? fc.oneof({ arbitrary: invalidText, weight: 4 }, { arbitrary: wrongType, weight: 1 })
      : invalidText;
  return fc.oneof(
    { arbitrary: valid, weight: weights.validWeight },
    { arbitrary: edge, weight: weights.edgeWeight },
    { arbitrary: invalid, weight: weights.invalidWeight },
  );
}

const UNKNOWN_KEYS = [
  'projectname',
  'memory.nginx',
  '__proto__',
  'constructor',
  'toString',
  'routes ',
  'x\n  - projectName',
  '\u202eevil',
  'redis\u0000',
  '<<',
  'replicas',
  'Swarm',
];
const UNKNOWN_MEMORY_KEYS = ['celery', 'Nginx', '__proto__', 'constructor'];

/** Sets an own, enumerable property even for "__proto__", as a parsed JSON or YAML document has it. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export interface AnswerCase {
  /** Command-line values keyed by answer key (strings, or a boolean for redis). */
  flags: Partial<Record<Key, unknown>>;
  /** The parsed answers file, nested like the README's example; undefined when there is none. */
  file: unknown;
  /** A previous run's .yo-rc.json answers (only valid values are ever stored there). */
  stored?: Record<string, unknown>;
}

export interface CaseOptions {
  /** Relative weights of a valid value, an edge case and an invalid value. */
  validWeight: number;
  edgeWeight: number;
  invalidWeight: number;
  /** Chance (percent) of an unknown key, a non-mapping memory or a non-mapping document. */
  structuralPercent: number;
}

/** A whole answer set: each field absent, on the command line, in the file, or in both. */
export function answerCase(weights: CaseOptions): fc.Arbitrary<AnswerCase> {
  const { structuralPercent } = weights;
  const placement = fc.constantFrom('absent', 'flag', 'file', 'file', 'both');
  const perField = FIELD_KEYS.map((key) =>
    placement.chain((where) =>
      fc.record({
        where: fc.constant(where),
        flag: where === 'flag' || where === 'both' ? rawValue(key, 'flag', weights) : fc.constant(undefined),
        file: where === 'file' || where === 'both' ? rawValue(key, 'file', weights) : fc.constant(undefined),
      }),
    ),
  );
  type Structural = {
    kind: 'none' | 'unknown' | 'unknownMemory' | 'memoryNotMapping' | 'rootNotMapping';
    key: string;
    value: unknown;
  };
  const structural: fc.Arbitrary<Structural> = fc.integer({ min: 0, max: 99 }).chain(
    (roll): fc.Arbitrary<Structural> =>
      roll >= structuralPercent
        ? fc.constant({ kind: 'none', key: '', value: undefined })
        : fc.record({
            kind: fc.constantFrom(
              'unknown' as const,
              'unknown' as const,
              'unknownMemory' as const,
              'memoryNotMapping' as const,
              'rootNotMapping' as const,
            ),
            key: fc.constantFrom(...UNKNOWN_KEYS, ...UNKNOWN_MEMORY_KEYS),
            value: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom({ projectName: 'x' }, null, 5)),
          }),
  );
  return fc.tuple(fc.tuple(...perField), structural, fc.boolean()).map(([values, extra, fileAsNull]) => {
    const flags: AnswerCase['flags'] = {};
    const document: Record<string, unknown> = {};
    let anyInFile = false;
    values.forEach((value, index) => {
      const key = FIELD_KEYS[index]!;
      if (value.where === 'flag' || value.where === 'both') flags[key] = value.flag;
      if (value.where === 'file' || value.where === 'both') {
        anyInFile = true;
        if (key.startsWith('memory.') || key.startsWith('cpus.')) {
          const [parent, service] = key.split('.') as [string, string];
          if (!(parent in document)) put(document, parent, {});
          put(document[parent] as Record<string, unknown>, service, value.file);
        } else {
          put(document, key, value.file);
        }
      }
    });
    let file: unknown = anyInFile || !fileAsNull ? document : undefined;
    if (extra.kind === 'unknown')
      put(document, UNKNOWN_KEYS.includes(extra.key) ? extra.key : `x${extra.key}`, extra.value);
    if (extra.kind === 'unknownMemory') {
      if (!('memory' in document)) put(document, 'memory', {});
      put(
        document['memory'] as Record<string, unknown>,
        UNKNOWN_MEMORY_KEYS.includes(extra.key) ? extra.key : 'celery',
        extra.value,
      );
    }
    if (extra.kind === 'memoryNotMapping') put(document, 'memory', extra.value === null ? '64m' : [extra.value]);
    if (extra.kind === 'rootNotMapping') file = [document];
    if (extra.kind !== 'none' && file === undefined) file = document;
    return { flags, file };
  });
}
