/**
 * The static third-party-scanner audit (issue #15): Debian's bandit on the generated backend,
 * shellcheck on the shell-form healthchecks of compose.yaml and on every shell script this
 * repository ships, yamllint on compose.yaml, and our own rules mirroring gixy (nginx.conf) and
 * hadolint / CIS Docker Benchmark 4.x (backend/Dockerfile), which Debian 12 does not package. Three
 * generated stacks (the example answers, TLS self-signed, no Redis) must have no finding that the
 * reviewed allow-list (generators/lib/audit/allow-list.ts) does not accept, and no allow-list
 * entry may go unused. Every rule and scanner is also fed a small bad input, so each test here
 * can fail. Known blind spot: bandit 1.6.2 on Python 3.11 never calls its string-literal plugins
 * (B104, B105, B108, B608 see ast.Str, which Python 3.8+ no longer produces); 1.7+ would.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALLOW_LIST } from '../../generators/lib/audit/allow-list.js';
import { runBandit } from '../../generators/lib/audit/bandit.js';
import { auditDockerfile, parseDockerfile } from '../../generators/lib/audit/dockerfile-rules.js';
import { formatFinding, isAllowed, unacceptedFindings, type Finding } from '../../generators/lib/audit/findings.js';
import { NginxSyntaxError, parseNginxConfig } from '../../generators/lib/audit/nginx-config.js';
import { auditNginxConfig } from '../../generators/lib/audit/nginx-rules.js';
import { shellcheckComposeHealthchecks, shellcheckFiles } from '../../generators/lib/audit/shellcheck.js';
import {
  runStaticAudit,
  STATIC_AUDIT_SCANNERS,
  type StaticAuditResult,
} from '../../generators/lib/audit/static-audit.js';
import { runYamllint } from '../../generators/lib/audit/yamllint.js';
import { EXAMPLE_ANSWERS_JSON, freshDirectory, generate, REPO_ROOT } from '../support/generate.js';
import { hasCommand, prerequisite } from '../support/prerequisites.js';

const haveScanners = prerequisite(
  'bandit, shellcheck and yamllint',
  () => hasCommand('bandit') && hasCommand('shellcheck') && hasCommand('yamllint'),
  'scripts/test-prerequisites.sh (apt-get install bandit shellcheck yamllint)',
);

const STACKS: Record<string, Record<string, unknown>> = {
  'example answers': { answers: EXAMPLE_ANSWERS_JSON },
  'tls self-signed': { answers: EXAMPLE_ANSWERS_JSON, tls: 'self-signed' },
  'no redis': { redis: false },
  // stack.yaml (yamllint) and nginx.swarm.conf (the nginx rules) too.
  'swarm, 3 backend replicas': { answers: EXAMPLE_ANSWERS_JSON, swarm: true, 'backend-replicas': '3' },
};

describe.runIf(haveScanners)('the static audit of generated stacks', () => {
  const audits = new Map<string, StaticAuditResult>();

  beforeAll(async () => {
    for (const [name, options] of Object.entries(STACKS))
      audits.set(name, await runStaticAudit(await generate({ options })));
  });

  it.each(Object.keys(STACKS))('%s: every scanner ran and every finding is on the allow-list', (name) => {
    const audit = audits.get(name)!;
    expect(audit.missing).toEqual([]);
    expect(audit.ran.map((run) => run.scanner)).toEqual(STATIC_AUDIT_SCANNERS);
    expect(audit.ran.every((run) => /^\d+\.\d+/.test(run.version))).toBe(true);
    expect(unacceptedFindings(audit.findings, ALLOW_LIST).map(formatFinding)).toEqual([]);
  });

  it('accepts host_spoofing only for Host $http_host, the one the allow-list reviewed', () => {
    const spoofing = [...audits.values()]
      .flatMap((audit) => audit.findings)
      .filter((finding) => finding.id === 'host_spoofing');
    for (const finding of spoofing) expect(finding.message).toMatch(/^proxy_set_header Host \$http_host: /);
  });

  it('uses every allow-list entry of its scanners on some stack (no stale entries)', () => {
    const findings = [...audits.values()].flatMap((audit) => audit.findings);
    const stale = ALLOW_LIST.filter((entry) => STATIC_AUDIT_SCANNERS.includes(entry.scanner)).filter(
      (entry) => !findings.some((finding) => isAllowed(finding, [entry]) !== undefined),
    );
    expect(stale.map((entry) => `${entry.scanner} ${entry.id}`)).toEqual([]);
  });
});

describe.runIf(haveScanners)('shell scripts this repository ships', () => {
  it('have no shellcheck finding', () => {
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    // Templates (backend/serve.sh.ejs) are checked as rendered, in the generated stacks' audit above.
    const scripts = tracked.filter(
      (path) =>
        !path.endsWith('.ejs') &&
        (path.endsWith('.sh') ||
          /^#!.*\b(?:ba|da)?sh\b/.test(readFileSync(join(REPO_ROOT, path), 'latin1').split('\n', 1)[0]!)),
    );
    // The list itself is checked, so a broken search cannot pass by finding nothing.
    expect(scripts).toEqual(
      expect.arrayContaining([
        '.ci/run',
        'scripts/test-prerequisites.sh',
        'test/e2e/engine/dockerd.sh',
        'test/e2e/engine/shims/nginx-entrypoint.sh',
      ]),
    );
    expect(shellcheckFiles(scripts, REPO_ROOT).map(formatFinding)).toEqual([]);
  });
});

describe('the nginx configuration parser', () => {
  it('reads directives, blocks, quotes, escapes, comments, ${variables} and lines as nginx does', () => {
    const config = parseNginxConfig(
      'a "b\\"c" \'d e\' ${x}y; # a comment; {\nhttp {\n  server { listen 80; }\n}\nreturn 200 "ok\\n";\n',
    );
    expect(config).toEqual([
      { name: 'a', args: ['b"c', 'd e', '${x}y'], line: 1 },
      {
        name: 'http',
        args: [],
        line: 2,
        children: [{ name: 'server', args: [], line: 3, children: [{ name: 'listen', args: ['80'], line: 3 }] }],
      },
      { name: 'return', args: ['200', 'ok\n'], line: 5 },
    ]);
  });

  it.each([
    ['http {\n  server {\n}', /block is not closed by "}" at line 1/],
    ['a;\n}', /unexpected "}" at line 2/],
    ['a b', /"a" is not terminated by ";" at line 1/],
    ['a "b;', /unterminated " string at line 1/],
    [';', /unexpected ";" at line 1/],
  ])('rejects %j', (text, error) => {
    expect(() => parseNginxConfig(text)).toThrow(NginxSyntaxError);
    expect(() => parseNginxConfig(text)).toThrow(error);
  });
});

/** An http block with server_tokens off around `server`, so only the rule under test can fire. */
function nginxFindings(server: string): string[] {
  const findings = auditNginxConfig(`http {\n    server_tokens off;\n    server {\n${server}\n    }\n}\n`);
  return findings.map((finding) => `${finding.id} ${finding.location}`);
}

describe('the gixy-like nginx rules', () => {
  it.each<[string, string, string[]]>([
    ['host_spoofing: Host from $http_host', 'proxy_set_header Host $http_host;', ['host_spoofing nginx/nginx.conf:4']],
    ['host_spoofing: Host from an argument', 'proxy_set_header host "$arg_h";', ['host_spoofing nginx/nginx.conf:4']],
    ['no host_spoofing: Host from $host', 'proxy_set_header Host $host;', []],
    [
      "add_header_redefinition: a location loses the server's headers",
      'add_header X-Frame-Options DENY always;\nadd_header X-A a;\nlocation / {\n  add_header X-A b;\n}',
      ['add_header_redefinition nginx/nginx.conf:6'],
    ],
    [
      'no add_header_redefinition: the location repeats every header',
      'add_header X-A a;\nlocation / {\n  add_header x-a b;\n}',
      [],
    ],
    [
      'no add_header_redefinition: a location without add_header inherits',
      'add_header X-A a;\nlocation / {\n  return 404;\n}',
      [],
    ],
    [
      'alias_traversal: prefix without, alias with a slash',
      'location /static {\n  alias /srv/static/;\n}',
      ['alias_traversal nginx/nginx.conf:5'],
    ],
    ['alias_traversal: ^~ prefix', 'location ^~ /i {\n  alias /srv/i/;\n}', ['alias_traversal nginx/nginx.conf:5']],
    ['no alias_traversal: both with a slash', 'location /static/ {\n  alias /srv/static/;\n}', []],
    ['ssrf: the host from an argument', 'location / {\n  proxy_pass http://$arg_to/;\n}', ['ssrf nginx/nginx.conf:5']],
    ['ssrf: the whole URL from a capture', 'location ~ ^/p/(.+)$ {\n  proxy_pass $1;\n}', ['ssrf nginx/nginx.conf:5']],
    [
      'ssrf: the host from a named capture',
      'location ~ ^/(?<to>[a-z]+)/ {\n  proxy_pass https://${to}.internal;\n}',
      ['ssrf nginx/nginx.conf:5'],
    ],
    [
      'ssrf: the host from the Host header',
      'location / {\n  proxy_pass http://$host$request_uri;\n}',
      ['ssrf nginx/nginx.conf:5'],
    ],
    ['no ssrf: the client picks only the path', 'location / {\n  proxy_pass http://backend$request_uri;\n}', []],
    ['no ssrf: internal location', 'location /x {\n  internal;\n  proxy_pass http://$arg_to;\n}', []],
    [
      'ssrf: the host through a variable set from a header',
      'set $to http://$http_x_target:8000;\nlocation / {\n  proxy_pass $to;\n}',
      ['ssrf nginx/nginx.conf:6'],
    ],
    [
      'no ssrf: a variable set to a fixed upstream (nginx.swarm.conf)',
      'set $to http://backend:8000;\nlocation / {\n  proxy_pass $to;\n}',
      [],
    ],
    ['http_splitting: $uri in a header', 'add_header X-Uri $uri;', ['http_splitting nginx/nginx.conf:4']],
    [
      'http_splitting: $document_uri in a redirect',
      'return 302 https://example.com$document_uri;',
      ['http_splitting nginx/nginx.conf:4'],
    ],
    [
      'http_splitting: a capture that can match a newline',
      'rewrite ^/a/([^/]+)$ /b/$1;',
      ['http_splitting nginx/nginx.conf:4'],
    ],
    [
      'http_splitting: a location capture sent upstream',
      'location ~ /x/(\\s*\\S+) {\n  proxy_set_header X-P $1;\n}',
      ['http_splitting nginx/nginx.conf:5'],
    ],
    ['no http_splitting: "." never matches a newline', 'location ~ /x/(.*) {\n  return 302 /y/$1;\n}', []],
    ['no http_splitting: $request_uri stays encoded', 'return 301 https://$host$request_uri;', []],
    [
      'version_disclosure: server_tokens on in a server',
      'server_tokens on;',
      ['version_disclosure nginx/nginx.conf:4'],
    ],
    [
      'add_header_multiline: a value over two lines',
      'add_header X-A "a\n    b";',
      ['add_header_multiline nginx/nginx.conf:4'],
    ],
  ])('%s', (_name, server, expected) => {
    expect(nginxFindings(server)).toEqual(expected);
  });

  it('version_disclosure: no server_tokens off at http level', () => {
    const findings = auditNginxConfig('events {}\nhttp {\n    server { listen 80; }\n}\n');
    expect(findings.map((finding) => `${finding.id} ${finding.location}`)).toEqual([
      'version_disclosure nginx/nginx.conf:2',
    ]);
  });

  it('finds nothing on a layout it was not written for: TLS at http level, absolute_redirect off', () => {
    const config = `http {\n  server_tokens off;\n  absolute_redirect off;\n  ssl_protocols TLSv1.2 TLSv1.3;\n  add_header X-A a always;\n
  server {\n    listen 8443 ssl;\n    location = /x { proxy_pass http://backend; }\n  }\n}\n`;
    expect(auditNginxConfig(config)).toEqual([]);
  });
});

const GOOD_DOCKERFILE = `FROM python:3.11.16-slim-bookworm
ENV PYTHONUNBUFFERED=1 \\
    DB_PASSWORD_FILE=/run/secrets/db_password
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER 10001:10001
# No HEALTHCHECK: compose.yaml has it.
CMD ["gunicorn"]
`;

function dockerfileFindings(source: string): string[] {
  return auditDockerfile(source).map((finding) => `${finding.id} ${finding.location}`);
}

describe('the hadolint and CIS Docker Benchmark rules', () => {
  it('find nothing on a Dockerfile like the one we generate', () => {
    expect(dockerfileFindings(GOOD_DOCKERFILE)).toEqual([]);
  });

  it('join continuation lines, skipping comments inside one', () => {
    const { instructions } = parseDockerfile('RUN a \\\n# inside\n    && b \\\n\n    c\nUSER x\n');
    expect(instructions).toEqual([
      { keyword: 'RUN', text: 'a && b c', line: 1 },
      { keyword: 'USER', text: 'x', line: 6 },
    ]);
  });

  it.each<[string, string, string[]]>([
    ['DL3006: an untagged base', 'FROM python', ['DL3006 backend/Dockerfile:1']],
    [
      'DL3006: an untagged base on a registry with a port',
      'FROM registry:5000/python',
      ['DL3006 backend/Dockerfile:1'],
    ],
    ['DL3007: latest', 'FROM docker.io/library/python:latest', ['DL3007 backend/Dockerfile:1']],
    ['no DL3006: a digest, or an earlier stage', 'FROM python@sha256:abc AS build\nFROM build', []],
    ['DL3020: ADD of files', 'ADD --chown=1:1 . /app', ['DL3020 backend/Dockerfile:1']],
    ['no DL3020: ADD of an archive', 'ADD rootfs.tar.gz /', []],
    [
      'DL3042: pip without --no-cache-dir, after a continuation',
      'RUN apt-get update \\\n && pip3 install django',
      ['DL3042 backend/Dockerfile:1'],
    ],
    [
      'DL3042: python -m pip',
      'RUN python3 -m pip install -r r.txt && pip install --no-cache-dir x',
      ['DL3042 backend/Dockerfile:1'],
    ],
    ['no DL3042: PIP_NO_CACHE_DIR in the image', 'ENV PIP_NO_CACHE_DIR=1\nRUN pip install django', []],
    ['CIS-4.10: a password in ENV', 'ENV DB_PASSWORD=hunter2', ['CIS-4.10 backend/Dockerfile:1']],
    [
      'CIS-4.10: a token in ARG, a key in legacy ENV',
      'ARG GITHUB_TOKEN\nENV SIGNING_KEY abc def',
      ['CIS-4.10 backend/Dockerfile:1', 'CIS-4.10 backend/Dockerfile:2'],
    ],
    ['no CIS-4.10: a quoted value with secret words', 'ENV GREETING="PASSWORD=x TOKEN" KEYBOARD=us', []],
  ])('%s', (_name, lines, expected) => {
    // The good Dockerfile's tail keeps the USER and HEALTHCHECK rules quiet.
    expect(dockerfileFindings(`${lines}\n${GOOD_DOCKERFILE.split('\n').slice(1).join('\n')}`)).toEqual(expected);
  });

  it('DL3002: the last USER is root', () => {
    expect(dockerfileFindings(GOOD_DOCKERFILE.replace('CMD', 'USER root\nCMD'))).toEqual([
      'DL3002 backend/Dockerfile:9',
    ]);
    expect(dockerfileFindings(GOOD_DOCKERFILE.replace('CMD', 'USER 0:0\nCMD'))).toEqual([
      'DL3002 backend/Dockerfile:9',
    ]);
  });

  it('CIS-4.1: no USER in the final stage, though an earlier stage had one', () => {
    const source = GOOD_DOCKERFILE.replace('CMD', 'FROM python:3.11.16-slim-bookworm\nCMD');
    expect(dockerfileFindings(source)).toEqual(['CIS-4.1 backend/Dockerfile:10']);
  });

  it('CIS-4.6: no HEALTHCHECK and no reason, or HEALTHCHECK NONE without one', () => {
    const withoutReason = GOOD_DOCKERFILE.replace(/^# No HEALTHCHECK.*\n/m, '# no reason\n');
    expect(dockerfileFindings(withoutReason)).toEqual(['CIS-4.6 backend/Dockerfile:9']);
    expect(dockerfileFindings(withoutReason.replace('CMD', 'HEALTHCHECK NONE\nCMD'))).toEqual([
      'CIS-4.6 backend/Dockerfile:9',
    ]);
    expect(
      dockerfileFindings(withoutReason.replace('CMD', 'HEALTHCHECK CMD curl -f http://127.0.0.1/ || exit 1\nCMD')),
    ).toEqual([]);
  });
});

function ids(findings: readonly Finding[]): string[] {
  return findings.map((finding) => `${finding.scanner} ${finding.id} ${finding.location}`);
}

describe.runIf(haveScanners)('the scanners surface what they find', () => {
  it('bandit: shell=True, even behind # nosec', () => {
    const directory = freshDirectory();
    mkdirSync(join(directory, 'backend'));
    writeFileSync(
      join(directory, 'backend/run.py'),
      'import subprocess\n\n\ndef run(command):\n    subprocess.call(command, shell=True)  # nosec\n',
    );
    expect(ids(runBandit(directory))).toEqual(['bandit B404 backend/run.py:1', 'bandit B602 backend/run.py:5']);
  });

  it('bandit: a file it cannot parse', () => {
    const directory = freshDirectory();
    mkdirSync(join(directory, 'backend'));
    writeFileSync(join(directory, 'backend/broken.py'), 'def (:\n');
    expect(ids(runBandit(directory))).toEqual(['bandit error backend/broken.py']);
  });

  it('yamllint: truthy values, duplicate keys, syntax errors', () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'compose.yaml'), 'services:\n  a:\n    read_only: yes\n    image: x\n    image: y\n');
    writeFileSync(join(directory, 'stack.yaml'), 'a: [\n');
    expect(ids(runYamllint(directory, ['compose.yaml', 'stack.yaml']))).toEqual([
      'yamllint truthy compose.yaml:3',
      'yamllint key-duplicates compose.yaml:5',
      'yamllint syntax stack.yaml:2',
    ]);
  });

  it('shellcheck: unquoted expansions in shell-form healthchecks, and none in exec form', () => {
    const directory = freshDirectory();
    const compose = {
      services: {
        web: { healthcheck: { test: ['CMD-SHELL', 'test -f $$MARKER'] } },
        cache: { healthcheck: { test: 'cat $(ls /run/secrets/*)' } },
        db: { healthcheck: { test: ['CMD', 'sh', '-c', 'echo $1'] } },
      },
    };
    writeFileSync(join(directory, 'compose.yaml'), JSON.stringify(compose));
    expect(ids(shellcheckComposeHealthchecks(directory))).toEqual([
      'shellcheck SC2086 compose.yaml services.web.healthcheck',
      'shellcheck SC2046 compose.yaml services.cache.healthcheck',
    ]);
  });

  it('shellcheck: a shipped script', () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'bad.sh'), '#!/bin/sh\necho $1\n');
    expect(ids(shellcheckFiles(['bad.sh'], directory))).toEqual(['shellcheck SC2086 bad.sh:2']);
  });

  it('lists missing scanners with their Debian package instead of failing, and still runs its own rules', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const path = process.env['PATH'];
    process.env['PATH'] = freshDirectory('empty-path');
    try {
      const audit = await runStaticAudit(directory);
      expect(audit.missing).toEqual([
        { scanner: 'bandit', install: 'bandit' },
        { scanner: 'shellcheck', install: 'shellcheck' },
        { scanner: 'yamllint', install: 'yamllint' },
      ]);
      expect(audit.ran.map((run) => run.scanner)).toEqual(['nginx-rules', 'dockerfile-rules']);
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('reports an nginx.conf the rules cannot parse as a finding', async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    writeFileSync(join(directory, 'nginx/nginx.conf'), 'http {\n');
    const audit = await runStaticAudit(directory);
    expect(ids(audit.findings)).toEqual(['nginx-rules syntax nginx/nginx.conf:1']);
  });
});
