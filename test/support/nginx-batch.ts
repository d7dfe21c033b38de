/**
 * `nginx -t` on many generated configs in one private mount namespace (see nginx.ts for why):
 * one unshare and one /etc/hosts bind mount for the whole batch instead of one per config.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes each config, tests them all, and returns the ones nginx rejects with its output. */
export function nginxTestMany(configs: readonly { id: string; config: string }[], serviceNames: readonly string[]): { id: string; output: string }[] {
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-batch-'));
  try {
    const hosts = join(workspace, 'hosts');
    writeFileSync(hosts, ['127.0.0.1 localhost', ...serviceNames.map((name, index) => `198.18.0.${index + 10} ${name}`), ''].join('\n'));
    const paths = configs.map((_, index) => join(workspace, `nginx-${index}.conf`));
    configs.forEach(({ config }, index) => writeFileSync(paths[index]!, config));
    // Each nginx writes to a file: it cannot open /dev/stdout (the config's access_log) on node's pipe sockets.
    const script = 'mount --bind "$1" /etc/hosts && shift && for c in "$@"; do nginx -t -q -e stderr -c "$c" >"$c.out" 2>&1; echo $? >"$c.rc"; done';
    const result = spawnSync('unshare', ['--mount', 'sh', '-c', script, 'nginx-batch', hosts, ...paths], { stdio: 'ignore' });
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
