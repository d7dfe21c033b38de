/**
 * The control for "through nginx": a second nginx that does nothing but proxy_pass to the same
 * backend. It runs from the same image, with the same hardening, memory limit, network, worker
 * count and upstream keepalive as the generated nginx service, but no rate limit, no added
 * headers and no access log. Loaded in the same rounds, it splits what nginx costs into the cost
 * of the extra hop itself (bare / backend) and the cost of the generated configuration on top
 * (generated / bare).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { writeCompose } from '../test/e2e/support/compose-file.js';
import { BACKEND_HEALTH_PATH, BACKEND_PORT, NGINX_HTTP_PORT } from '../generators/lib/contract.js';

export const BARE_PROXY_SERVICE = 'bare-nginx';
const NGINX_CONF = '/etc/nginx/nginx.conf';

/** One directive's value in the generated nginx.conf, so the control is sized as the real one. */
function directive(config: string, name: string): string {
  const value = new RegExp(`^\\s*${name}\\s+(\\d+);`, 'm').exec(config)?.[1];
  if (!value) throw new Error(`the generated nginx.conf has no numeric ${name} directive`);
  return value;
}

export function bareProxyConfig(generated: string): string {
  return `worker_processes ${directive(generated, 'worker_processes')};
pid /tmp/nginx.pid;
error_log stderr warn;
events {
    worker_connections ${directive(generated, 'worker_connections')};
}
http {
    access_log off;
    client_body_temp_path /tmp/nginx-client-body;
    proxy_temp_path /tmp/nginx-proxy;
    fastcgi_temp_path /tmp/nginx-fastcgi;
    uwsgi_temp_path /tmp/nginx-uwsgi;
    scgi_temp_path /tmp/nginx-scgi;
    upstream backend {
        server backend:${BACKEND_PORT};
        keepalive ${directive(generated, 'keepalive')};
    }
    server {
        listen ${NGINX_HTTP_PORT};
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }
    }
}
`;
}

/**
 * Adds the control to the bench's own copy of the stack as one more Compose service, a copy of
 * the nginx service (so either engine's client applies the same keys) with its own config, no
 * published port, and a healthcheck through itself to the backend's health view.
 */
export function addBareProxyService(directory: string, generatedConfig: string, serverName: string): void {
  const composePath = join(directory, 'compose.yaml');
  const compose = parse(readFileSync(composePath, 'utf8')) as { services: Record<string, Record<string, unknown>> };
  const nginx = compose.services['nginx'];
  if (!nginx) throw new Error('the generated compose.yaml has no nginx service');
  writeFileSync(join(directory, 'bare-nginx.conf'), bareProxyConfig(generatedConfig));
  const volumes = (nginx['volumes'] as string[] | undefined) ?? [];
  const mount = `./bare-nginx.conf:${NGINX_CONF}:ro`;
  if (!volumes.some((volume) => volume.split(':')[1] === NGINX_CONF))
    throw new Error(`the nginx service does not mount ${NGINX_CONF}`);
  const healthcheck = nginx['healthcheck'] as Record<string, unknown>;
  const { ports: _published, ...rest } = nginx;
  compose.services[BARE_PROXY_SERVICE] = {
    ...rest,
    volumes: volumes.map((volume) => (volume.split(':')[1] === NGINX_CONF ? mount : volume)),
    healthcheck: {
      ...healthcheck,
      test: [
        'CMD',
        'curl',
        '--fail',
        '--silent',
        '--output',
        '/dev/null',
        '--header',
        `Host: ${serverName}`,
        `http://127.0.0.1:${NGINX_HTTP_PORT}${BACKEND_HEALTH_PATH}`,
      ],
    },
  };
  writeCompose(composePath, compose);
}
