/**
 * The control for "through nginx": a second nginx that does nothing but proxy_pass to the same
 * backend. It runs from the same image, with the same hardening, memory limit, network, worker
 * count and upstream keepalive as the generated nginx service, but no rate limit, no added
 * headers and no access log. Loaded in the same rounds, it splits what nginx costs into the cost
 * of the extra hop itself (bare / backend) and the cost of the generated configuration on top
 * (generated / bare).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_HEALTH_PATH, BACKEND_PORT, NGINX_HTTP_PORT } from '../generators/lib/stack/model.js';
import type { Engine } from '../generators/lib/verify/engine.js';
import type { ServicePlan, StackPlan } from '../test/e2e/runner/compose.js';
import { containerName, runArguments } from '../test/e2e/runner/runner.js';

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

/** Starts the control beside the stack's nginx (labelled into the project, so `down` removes it). */
export async function startBareProxy(engine: Engine, plan: StackPlan, generatedConfig: string, serverName: string): Promise<void> {
  const nginx = plan.services.find((service) => service.name === 'nginx');
  if (!nginx) throw new Error('the generated compose.yaml has no nginx service');
  const configPath = join(plan.directory, 'bare-nginx.conf');
  writeFileSync(configPath, bareProxyConfig(generatedConfig));
  const control: ServicePlan = {
    ...nginx,
    name: BARE_PROXY_SERVICE,
    ports: [],
    restart: undefined,
    healthcheck: undefined,
    dependsOn: [],
    volumes: nginx.volumes.map((volume) => (volume.target === NGINX_CONF ? { kind: 'bind', source: configPath, target: NGINX_CONF, readOnly: true } : volume)),
  };
  if (!control.volumes.some((volume) => volume.source === configPath)) throw new Error(`the nginx service does not mount ${NGINX_CONF}`);
  const name = containerName(plan.project, BARE_PROXY_SERVICE);
  await engine.must(runArguments(plan, control));
  await engine.must(['start', name]);
  // Ready when it proxies the backend's health view; nginx starts in well under a second.
  const probe = ['curl', '--fail', '--silent', '--output', '/dev/null', '--header', `Host: ${serverName}`, `http://127.0.0.1:${NGINX_HTTP_PORT}${BACKEND_HEALTH_PATH}`];
  for (let attempt = 0; (await engine.exec(name, probe)).code !== 0; attempt++) {
    if (attempt === 20) throw new Error(`the bare nginx control did not proxy ${BACKEND_HEALTH_PATH} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
