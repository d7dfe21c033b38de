/**
 * `nginx -t` on many generated configs in one private mount namespace (see nginx.ts for why):
 * one unshare and one /etc/hosts bind mount for the whole batch instead of one per config. A
 * config with HTTPS finds a certificate and key under /run/secrets, as its container would.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateForKey, newPrivateKeyPem } from '../../generators/lib/tls/self-signed.js';

/** Writes each config, tests them all, and returns the ones nginx rejects with its output. */
export function nginxTestMany(
  configs: readonly { id: string; config: string }[],
  serviceNames: readonly string[],
): { id: string; output: string }[] {
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-batch-'));
  try {
    const hosts = join(workspace, 'hosts');
    writeFileSync(
      hosts,
      ['127.0.0.1 localhost', ...serviceNames.map((name, index) => `198.18.0.${index + 10} ${name}`), ''].join('\n'),
    );
    const secrets = join(workspace, 'secrets');
    mkdirSync(secrets);
    const key = newPrivateKeyPem();
    writeFileSync(join(secrets, 'tls_key'), key);
    writeFileSync(join(secrets, 'tls_cert'), certificateForKey('localhost', key));
    const paths = configs.map((_, index) => join(workspace, `nginx-${index}.conf`));
    for (const [index, { config }] of configs.entries()) writeFileSync(paths[index]!, config);
    // Each nginx writes to a file: it cannot open /dev/stdout (the config's access_log) on node's pipe sockets.
    const script =
      'mount --bind "$1" /etc/hosts && mount -t tmpfs tmpfs /run && mkdir /run/secrets && mount --bind "$2" /run/secrets && shift 2 && for c in "$@"; do nginx -t -q -e stderr -c "$c" >"$c.out" 2>&1; echo $? >"$c.rc"; done';
    const result = spawnSync('unshare', ['--mount', 'sh', '-c', script, 'nginx-batch', hosts, secrets, ...paths], {
      stdio: 'ignore',
    });
    if (result.status !== 0) return [{ id: '(all)', output: `unshare failed with status ${result.status}` }];
    return configs.flatMap(({ id }, index) => {
      const status = readFileSync(`${paths[index]}.rc`, 'utf8').trim();
      const output = readFileSync(`${paths[index]}.out`, 'utf8');
      return status === '0' && output === '' ? [] : [{ id, output: `status ${status}: ${output}` }];
    });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}
