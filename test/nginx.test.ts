/** The generated nginx.conf passes `nginx -t` and routes exactly as answered. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_ANSWERS_JSON, generate } from './support/generate.js';
import { nginxAvailable, nginxTest } from './support/nginx.js';
import { prerequisite } from './support/prerequisites.js';
import { readCompose } from './support/stack-files.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');

const SCENARIOS: Record<string, Record<string, unknown>> = {
  'example answers': { answers: EXAMPLE_ANSWERS_JSON },
  'redis off, one deep route': { redis: false, routes: '/api/v1/internal-tools_x.y~z' },
  '500 routes': { routes: Array.from({ length: 500 }, (_, i) => `/r${i}`).join(','), 'server-name': 'a-b.c0.example' },
};

/** Prefix locations as nginx sees them: "= /x" and "/x/" pairs, one pair per route. */
function locations(config: string): string[] {
  return [...config.matchAll(/^\s*location\s+([^{]+?)\s*\{/gm)].map((match) => match[1]!);
}

describe.runIf(haveNginx).each(Object.entries(SCENARIOS))('nginx.conf for %s', (_name, options) => {
  let directory: string;
  let config: string;

  it('passes nginx -t with the Compose service names resolvable', async () => {
    directory = await generate({ options });
    config = readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8');
    const result = nginxTest(join(directory, 'nginx/nginx.conf'), Object.keys(readCompose(directory).services));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('has exactly one exact and one prefix location per route, and nothing else proxied', () => {
    const routes = (JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8'))['generator-secure-stack'].routes as { path: string }[]).map((r) => r.path);
    const expected = ['= /nginx-health', '= /health/', ...routes.flatMap((path) => [`= ${path}`, `${path}/`]), '/'];
    expect(locations(config)).toEqual(expected);
    expect(config.match(/proxy_pass /g)?.length).toBe(1 + 2 * routes.length);
  });

  it('hides its version, sets security headers and drops unknown hosts', () => {
    expect(config).toMatch(/^\s*server_tokens off;$/m);
    for (const header of ['X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy', 'Content-Security-Policy']) {
      expect(config).toMatch(new RegExp(`^\\s*add_header ${header} .+ always;$`, 'm'));
    }
    expect(config).toMatch(/listen 8080 default_server;\s*server_name _;\s*return 444;/);
    expect(config).toMatch(/^\s*client_max_body_size \d+m;$/m);
  });

  it('fails nginx -t when the config is broken (the oracle can fail)', () => {
    const broken = join(directory, 'nginx/broken.conf');
    writeFileSync(broken, config.replace('server_tokens off;', 'server_tokens off'));
    expect(nginxTest(broken, ['backend']).ok).toBe(false);
  });
});
