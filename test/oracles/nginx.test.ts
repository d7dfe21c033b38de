/** The generated nginx.conf passes `nginx -t` and routes exactly as answered. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_ANSWERS_JSON, generate, withProvidedCertificate } from '../support/generate.js';
import { nginxAvailable, nginxForwards, nginxTestStack } from '../support/nginx.js';
import { prerequisite } from '../support/prerequisites.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');

const SCENARIOS: Record<string, { options: Record<string, unknown>; directory?: () => string; tls?: boolean }> = {
  'example answers': { options: { answers: EXAMPLE_ANSWERS_JSON } },
  'redis off, one deep route': { options: { redis: false, routes: '/api/v1/internal-tools_x.y~z' } },
  '500 routes, 150 requests/s': {
    options: {
      routes: Array.from({ length: 500 }, (_, i) => `/r${i}`).join(','),
      'server-name': 'a-b.c0.example',
      'rate-limit': '150',
    },
  },
  'a 253-character server name': {
    options: {
      'server-name': ['a', 'b', 'c', 'd']
        .map((c) => c.repeat(63))
        .join('.')
        .slice(0, 253),
    },
  },
  'tls self-signed, /health/ public': {
    options: { answers: EXAMPLE_ANSWERS_JSON, tls: 'self-signed', 'public-health': true },
    tls: true,
  },
  'tls provided, on 443': {
    options: {
      answers: EXAMPLE_ANSWERS_JSON,
      tls: 'provided',
      'tls-cert': 'certs/shop.crt',
      'tls-key': 'certs/shop.key',
      'https-port': '443',
    },
    directory: withProvidedCertificate,
    tls: true,
  },
};

/** Prefix locations as nginx sees them: "= /x" and "/x/" pairs, one pair per route. */
function locations(config: string): string[] {
  return [...config.matchAll(/^\s*location\s+([^{]+?)\s*\{/gm)].map((match) => match[1]!);
}

describe.runIf(haveNginx).each(Object.entries(SCENARIOS))('nginx.conf for %s', (_name, scenario) => {
  let directory: string;
  let config: string;

  it('passes nginx -t with its volumes, secrets and the Compose service names in place', async () => {
    directory = await generate({ options: scenario.options, directory: scenario.directory?.() });
    config = readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8');
    const result = nginxTestStack(directory);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('has exactly one exact and one prefix location per route, and nothing else proxied', () => {
    const routes = (
      JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8'))['generator-secure-stack'].routes as {
        path: string;
      }[]
    ).map((r) => r.path);
    const publicHealth =
      JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8'))['generator-secure-stack'].publicHealth === true
        ? ['= /health/']
        : [];
    // First the loopback listener (nginx's and the backend's health); with TLS the plain-HTTP
    // server redirects everything; the backend's /health/ in public only with publicHealth.
    const expected = [
      '= /nginx-health',
      '= /health/',
      '/',
      ...(scenario.tls ? ['/'] : []),
      '= /nginx-health',
      ...publicHealth,
      ...routes.flatMap((path) => [`= ${path}`, `${path}/`]),
      '/',
    ];
    expect(locations(config)).toEqual(expected);
    expect(config.match(/proxy_pass /g)?.length).toBe(1 + publicHealth.length + 2 * routes.length);
  });

  it('hides its version, sets security headers and drops unknown hosts', () => {
    expect(config).toMatch(/^\s*server_tokens off;$/m);
    for (const header of ['X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy', 'Content-Security-Policy']) {
      expect(config).toMatch(new RegExp(`^\\s*add_header ${header} .+ always;$`, 'm'));
    }
    expect(config).toMatch(
      /listen 8080 default_server;\s*(?:#.*\s*listen 8443 ssl http2 default_server;\s*ssl_reject_handshake on;\s*)?server_name _;\s*return 444;/,
    );
    expect(config).toMatch(/^\s*client_max_body_size \d+m;$/m);
    const rate = JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8'))['generator-secure-stack']
      .rateLimit as number;
    expect(config).toContain(`limit_req_zone $binary_remote_addr zone=per_client:1m rate=${rate}r/s;`);
    expect(config).toContain(`limit_req zone=per_client burst=${rate * 2} nodelay;`);
    // The only proxy: a client's own X-Forwarded-For must not reach the backend.
    expect(config).toMatch(/^\s*proxy_set_header X-Forwarded-For \$remote_addr;$/m);
    expect(config).not.toContain('$proxy_add_x_forwarded_for');
  });

  it('logs every request to stdout in writes no larger than PIPE_BUF', () => {
    const match = /^\s*access_log \/dev\/stdout combined buffer=(\d+)k flush=(\d+)s;$/m.exec(config);
    expect(match, 'a buffered access log on stdout').not.toBeNull();
    // Writes of at most 4096 bytes to a pipe are atomic: two workers' buffered lines cannot interleave.
    expect(Number(match![1]) * 1024).toBeLessThanOrEqual(4096);
    expect(Number(match![2])).toBeLessThanOrEqual(1);
  });

  // Defined only for the TLS scenarios, so no test is reported as skipped.
  it('redirects with relative paths and passes the host and port the client sent', () => {
    // An absolute redirect would name the port nginx listens on in its container, not the published one.
    expect(config).toMatch(/^ {4}absolute_redirect off;$/m);
    expect(config).toMatch(/^\s*proxy_set_header Host \$http_host;$/m);
    expect(config).not.toMatch(/proxy_set_header Host \$host;/);
  });

  if (scenario.tls)
    it('sets the TLS profile for the whole socket, default server included: TLS 1.2 and 1.3, ECDHE AEAD only', () => {
      // At http level, before any server: every server on the HTTPS socket inherits it.
      const httpLevel = config.slice(0, config.indexOf('    server {'));
      expect(httpLevel).toMatch(/^ {4}ssl_protocols TLSv1\.2 TLSv1\.3;$/m);
      const ciphers = /^ {4}ssl_ciphers (\S+);$/m.exec(httpLevel)?.[1]?.split(':') ?? [];
      expect(ciphers.length).toBeGreaterThan(0);
      for (const cipher of ciphers)
        expect(cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
      expect(httpLevel).toMatch(/^ {4}ssl_ecdh_curve X25519:prime256v1:secp384r1;$/m);
      // Mozilla: no session tickets (their keys would undo forward secrecy until nginx restarts).
      expect(httpLevel).toMatch(/^ {4}ssl_session_tickets off;$/m);
      expect(config.match(/ssl_protocols|ssl_ciphers/g)).toHaveLength(2);
      expect(config).not.toMatch(/ssl_dhparam|ssl_stapling|[\s:]DHE-/);
    });

  if (scenario.tls)
    it('serves TLS 1.2 and 1.3 only, with HSTS, and redirects plain HTTP', () => {
      // Two years for this host; includeSubDomains and preload only with the hstsPreload answer.
      expect(config).toMatch(/^\s*add_header Strict-Transport-Security "max-age=63072000" always;$/m);
      expect(config).toMatch(/return 301 https:\/\/\$host(:\d+)?\$request_uri;/);
      expect(config).toMatch(/listen 8443 ssl http2 default_server;\s*ssl_reject_handshake on;/);
    });

  it('fails nginx -t when the config is broken (the oracle can fail)', () => {
    expect(nginxTestStack(directory, config.replace('server_tokens off;', 'server_tokens off')).ok).toBe(false);
  });
});

describe.runIf(haveNginx)('the path the backend is sent', () => {
  // Example routes /api and /admin. nginx routes by the normalised path; the backend must be sent
  // that path, or a route with a rule of its own could be reached through another (/admin/../api/x).
  const EXPECTED: [string, string][] = [
    ['/admin/../api/x', 'GET /api/x HTTP/1.1'],
    ['/api/%2e%2e/admin/x', 'GET /admin/x HTTP/1.1'],
    ['/api//x', 'GET /api/x HTTP/1.1'],
    ['/api/./x', 'GET /api/x HTTP/1.1'],
    ['/api/a%20b', 'GET /api/a%20b HTTP/1.1'],
    ['/api/x%3Fy?q=1&r=%2F', 'GET /api/x%3Fy?q=1&r=%2F HTTP/1.1'],
    ['/api/caf%C3%A9', 'GET /api/caf%C3%A9 HTTP/1.1'],
    // A decoded CR LF goes on re-escaped: no header can be split off the request line.
    ['/api/a%0d%0aX-Injected:%201', 'GET /api/a%0D%0AX-Injected:%201 HTTP/1.1'],
    ['/api', 'GET /api HTTP/1.1'],
    ['/apiary/../api', 'GET /api HTTP/1.1'],
    ['/api/../other', 'nginx 404'],
  ];
  for (const swarm of [false, true]) {
    it(`is the normalised path nginx routed on, re-escaped (${swarm ? 'nginx.swarm.conf, backend resolved per request' : 'nginx.conf'})`, async () => {
      const directory = await generate({
        options: { answers: EXAMPLE_ANSWERS_JSON, ...(swarm ? { swarm: true } : {}) },
      });
      const forwards = nginxForwards(
        directory,
        EXPECTED.map(([path]) => path),
        { swarm, host: 'shop.localhost', backendPort: 8000 },
      );
      expect([...forwards]).toEqual(EXPECTED);
    });
  }
});
