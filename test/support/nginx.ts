/**
 * `nginx -t` with the real nginx on a generated stack's nginx.conf, with the files laid out as
 * Compose lays them out in the nginx container: the service's volumes under /etc/nginx, its
 * secrets under /run/secrets, and the Compose service names resolvable (nginx resolves upstream
 * names when it loads its config). All of it happens in a private mount namespace; the names
 * map to TEST-NET addresses in 198.18.0.0/15 that are never contacted: -t only parses and loads.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hasCommand } from './prerequisites.js';
import { readCompose, readStackFile, type ComposeFile } from './stack-files.js';

export function nginxAvailable(): boolean {
  return hasCommand('nginx', ['-v']) && hasCommand('unshare', ['--mount', 'true']);
}

export interface NginxResult {
  ok: boolean;
  output: string;
}

/** nginx -t on the stack in `directory`, as its nginx container would load it. */
export function nginxTestStack(directory: string, configOverride?: string): NginxResult {
  const compose = readCompose(directory);
  return nginxTestLaidOut(directory, compose, Object.keys(compose.services), configOverride);
}

/**
 * nginx -t on the Swarm rendering, laid out as stack.yaml mounts it and with no service name
 * resolvable: on a swarm nginx must load before any backend task exists.
 */
export function nginxTestSwarm(directory: string, configOverride?: string): NginxResult {
  return nginxTestLaidOut(directory, readStackFile(directory), [], configOverride);
}

function nginxTestLaidOut(directory: string, compose: ComposeFile, resolvable: readonly string[], configOverride?: string): NginxResult {
  const nginx = compose.services['nginx']!;
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-test-'));
  const etc = join(workspace, 'etc-nginx');
  cpSync('/etc/nginx', etc, { recursive: true });
  // Bind mounts only: the long-syntax tmpfs mounts of stack.yaml need no file.
  for (const volume of (nginx.volumes ?? []).filter((volume): volume is string => typeof volume === 'string')) {
    const [source, target] = volume.split(':') as [string, string];
    if (!target.startsWith('/etc/nginx/')) throw new Error(`nginx test: cannot lay out volume ${volume}`);
    copyFileSync(resolve(directory, source), join(etc, target.slice('/etc/nginx/'.length)));
  }
  if (configOverride !== undefined) writeFileSync(join(etc, 'nginx.conf'), configOverride);
  const secrets = join(workspace, 'secrets');
  mkdirSync(secrets);
  for (const name of nginx.secrets ?? []) copyFileSync(resolve(directory, compose.secrets[name]!.file), join(secrets, name));
  const hosts = join(workspace, 'hosts');
  writeFileSync(hosts, ['127.0.0.1 localhost', ...resolvable.map((name, index) => `198.18.0.${index + 10} ${name}`)].join('\n') + '\n');
  const script = [
    'set -e',
    'mount --bind "$1/hosts" /etc/hosts',
    'mount --bind "$1/etc-nginx" /etc/nginx',
    'mount -t tmpfs tmpfs /run',
    'mkdir /run/secrets',
    'mount --bind "$1/secrets" /run/secrets',
    'exec nginx -t -q -e stderr -c /etc/nginx/nginx.conf',
  ].join('\n');
  return runCaptured(['unshare', '--mount', 'sh', '-c', script, 'nginx-test', workspace], workspace);
}

/** nginx -t on one config file with `serviceNames` resolvable (no volumes or secrets). */
export function nginxTest(configPath: string, serviceNames: readonly string[]): NginxResult {
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-test-'));
  const hosts = join(workspace, 'hosts');
  writeFileSync(hosts, ['127.0.0.1 localhost', ...serviceNames.map((name, index) => `198.18.0.${index + 10} ${name}`)].join('\n') + '\n');
  return runCaptured(['unshare', '--mount', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec nginx -t -q -e stderr -c "$2"', 'nginx-test', hosts, configPath], workspace);
}

/**
 * Output goes to a file, as in a container: node's pipes are sockets, and nginx cannot open
 * /dev/stdout (the config's access_log) on a socket.
 */
function runCaptured(command: string[], workspace: string): NginxResult {
  const outputPath = join(workspace, 'output');
  const output = openSync(outputPath, 'w');
  const result = spawnSync(command[0]!, command.slice(1), { stdio: ['ignore', output, output] });
  closeSync(output);
  return { ok: result.status === 0, output: readFileSync(outputPath, 'utf8') };
}
