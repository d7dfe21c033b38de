/**
 * The package as users get it: `npm pack` of this repository installed with yo into a private
 * prefix, so the tests run the published files only (a file missing from "files" fails them).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT as REPO_ROOT } from '../../generators/lib/package-info.js';

export interface PackedInstall {
  root: string;
  nodeModules: string;
  bin: (name: string) => string;
}

export function installPackedPackage(): PackedInstall {
  const root = mkdtempSync(join(tmpdir(), 'secure-stack-packed-'));
  // mkdtemp makes 0700 directories; the unprivileged user running yo must read the install.
  chmodSync(root, 0o755);
  execFileSync('npm', ['pack', '--silent', '--pack-destination', root], { cwd: REPO_ROOT, stdio: 'ignore' });
  const tarball = readdirSync(root).find((name) => name.endsWith('.tgz'))!;
  const yoVersion = (
    JSON.parse(
      execFileSync('npm', ['pkg', 'get', 'devDependencies.yo'], { cwd: REPO_ROOT, encoding: 'utf8' }),
    ) as string
  ).replace(/^\^/, '');
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      root,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      `yo@${yoVersion}`,
      join(root, tarball),
    ],
    { stdio: 'ignore' },
  );
  execFileSync('chmod', ['-R', 'a+rX', root]);
  const nodeModules = join(root, 'node_modules');
  return { root, nodeModules, bin: (name) => join(nodeModules, '.bin', name) };
}
