/**
 * `nginx -t` with the real nginx on a generated nginx.conf. nginx resolves upstream host names
 * when it loads its config, as it does inside Compose where the service names resolve; here a
 * private mount namespace gives nginx an /etc/hosts holding those names (TEST-NET addresses in
 * 198.18.0.0/15, never contacted: -t only parses and resolves).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand } from './prerequisites.js';

export function nginxAvailable(): boolean {
  return hasCommand('nginx', ['-v']) && hasCommand('unshare', ['--mount', 'true']);
}

export function nginxTest(configPath: string, serviceNames: readonly string[]): { ok: boolean; output: string } {
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-test-'));
  const hosts = join(workspace, 'hosts');
  const lines = ['127.0.0.1 localhost', ...serviceNames.map((name, index) => `198.18.0.${index + 10} ${name}`)];
  writeFileSync(hosts, `${lines.join('\n')}\n`);
  // Output to a file, as in a container: node's pipes are sockets, and nginx cannot open
  // /dev/stdout (the config's access_log) on a socket.
  const outputPath = join(workspace, 'output');
  const output = openSync(outputPath, 'w');
  const result = spawnSync(
    'unshare',
    ['--mount', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec nginx -t -q -e stderr -c "$2"', 'nginx-test', hosts, configPath],
    { stdio: ['ignore', output, output] },
  );
  closeSync(output);
  return { ok: result.status === 0, output: readFileSync(outputPath, 'utf8') };
}
