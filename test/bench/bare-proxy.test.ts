/**
 * The benchmark's control nginx (bench/bare-proxy.ts): a config nginx accepts, sized as the
 * generated one, and bare of everything the generated one adds, so "nginx / bare nginx" measures
 * exactly the generated configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bareProxyConfig } from '../../bench/bare-proxy.js';
import { EXAMPLE_ANSWERS_JSON, generate } from '../support/generate.js';
import { nginxAvailable, nginxTestStack } from '../support/nginx.js';
import { prerequisite } from '../support/prerequisites.js';

const haveNginx = prerequisite('nginx and unshare', nginxAvailable, 'scripts/test-prerequisites.sh');

const value = (config: string, name: string) => new RegExp(`^\\s*${name}\\s+(\\S+);`, 'm').exec(config)?.[1];

describe('the bench control nginx', async () => {
  // Smallest budget: one worker and the smallest keepalive, unlike the defaults the control would
  // otherwise match by chance.
  const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, 'memory-nginx': '16m' } });
  const generated = readFileSync(join(directory, 'nginx/nginx.conf'), 'utf8');
  const control = bareProxyConfig(generated);

  it.runIf(haveNginx)('passes nginx -t where the generated nginx runs', () => {
    const result = nginxTestStack(directory, control);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('has the generated worker count, connections and upstream keepalive', () => {
    for (const name of ['worker_processes', 'worker_connections', 'keepalive'])
      expect([name, value(control, name)]).toEqual([name, value(generated, name)]);
    expect(value(generated, 'worker_processes')).toBe('1');
  });

  it('only proxies: no rate limit, added headers, hidden headers or access log', () => {
    expect(generated).toMatch(/limit_req |add_header |proxy_hide_header |access_log \/dev\/stdout/);
    expect(control).not.toMatch(/limit_req|add_header|proxy_hide_header|X-Forwarded|X-Real-IP/);
    expect(value(control, 'access_log')).toBe('off');
    expect(control).toMatch(/location \/ \{\s*proxy_pass http:\/\/backend;/);
  });

  it('names the directive a generated config lacks', () => {
    expect(() => bareProxyConfig(generated.replace(/^\s*keepalive \d+;$/m, ''))).toThrow(
      'the generated nginx.conf has no numeric keepalive directive',
    );
  });
});
