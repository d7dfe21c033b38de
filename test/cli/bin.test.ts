/**
 * The two entry points, as users run them: the packed package's own `secure-stack` bin (as
 * whoever runs the tests, root in CI) and `yo secure-stack` as an unprivileged user (yo refuses
 * root). Both from the example answers file, both producing the same stack.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_ANSWERS_JSON, EXAMPLE_ANSWERS_YAML, REPO_ROOT } from '../support/generate.js';
import { installPackedPackage, type PackedInstall } from '../support/packed.js';
import { readTree } from '../support/tree.js';

const OWN_BIN = join(REPO_ROOT, 'dist/cli/main.js');
/** nobody/nogroup: an unprivileged account every Debian system has. */
const UNPRIVILEGED = { uid: 65534, gid: 65534 };

function workspace(owner?: { uid: number; gid: number }): string {
  const directory = mkdtempSync(join(tmpdir(), 'secure-stack-bin-'));
  chmodSync(directory, 0o755);
  if (owner) chownSync(directory, owner.uid, owner.gid);
  return directory;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], HOME: cwd, CI: 'true', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const withoutSecretValues = (tree: Map<string, string>) =>
  [...tree].filter(([path]) => !path.startsWith('secrets/') || path.endsWith('README.md'));

describe('the packed package', () => {
  let packed: PackedInstall;
  let fromBin: string;

  beforeAll(() => {
    packed = installPackedPackage();
  }, 300_000);

  it('ships compiled code and templates, no sources, tests or maps', () => {
    const files = [...readTree(join(packed.nodeModules, 'generator-secure-stack')).keys()];
    expect(files).toContain('dist/generators/app/index.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('templates/compose.yaml.ejs');
    expect(files.filter((file) => /\.ts$|\.map$|^test\/|^generators\//.test(file))).toEqual([]);
    // Every compiled module has its source (a build left nothing stale), but the bin's chunks.
    const compiled = files.filter((file) => file.startsWith('dist/') && !file.startsWith('dist/cli/chunks/'));
    const orphans = compiled.filter(
      (file) => !existsSync(join(REPO_ROOT, file.slice('dist/'.length).replace(/\.js$/, '.ts'))),
    );
    expect(orphans).toEqual([]);
    expect(files.some((file) => file.startsWith('dist/cli/chunks/'))).toBe(true);
  });

  it('loads its on-demand chunks from the package: the YAML reader and verify', () => {
    const fromYaml = workspace();
    const generated = run(packed.bin('secure-stack'), ['--answers', EXAMPLE_ANSWERS_YAML], fromYaml);
    expect(generated.stderr).toBe('');
    expect(generated.status).toBe(0);
    expect(readdirSync(fromYaml)).toContain('compose.yaml');
    const help = run(packed.bin('secure-stack'), ['verify', '--help'], workspace());
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--engine/);
  });

  it(`runs its own bin as ${userInfo().username} from the answers file`, () => {
    fromBin = workspace();
    const result = run(packed.bin('secure-stack'), ['--answers', EXAMPLE_ANSWERS_JSON], fromBin);
    expect(result.stderr).not.toMatch(/error|^\s+at /im);
    expect(result.status).toBe(0);
    expect(readdirSync(fromBin)).toContain('compose.yaml');
  });

  it('runs `yo secure-stack` as an unprivileged user, writing the same stack', () => {
    const asRoot = process.getuid?.() === 0;
    const destination = workspace(asRoot ? UNPRIVILEGED : undefined);
    // yo keeps its own state in HOME: give it one outside the destination.
    const env = { NODE_PATH: packed.nodeModules, HOME: workspace(asRoot ? UNPRIVILEGED : undefined) };
    const yo = [packed.bin('yo'), 'secure-stack', '--answers', EXAMPLE_ANSWERS_JSON, '--no-insight'];
    const result = asRoot
      ? run(
          'setpriv',
          [`--reuid=${UNPRIVILEGED.uid}`, `--regid=${UNPRIVILEGED.gid}`, '--clear-groups', ...yo],
          destination,
          env,
        )
      : run(yo[0]!, yo.slice(1), destination, env);
    expect(result.stderr).not.toMatch(/error|^\s+at /im);
    expect(result.status).toBe(0);
    expect(withoutSecretValues(readTree(destination))).toEqual(withoutSecretValues(readTree(fromBin)));
  });
});

describe('the bin on user mistakes', () => {
  it('prints the problems without a stack trace, exits 1 and writes nothing', () => {
    const directory = workspace();
    const result = run(
      'node',
      [OWN_BIN, '--answers', EXAMPLE_ANSWERS_JSON, '--http-port', 'eighty', '--db-user', 'pg_admin'],
      directory,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/httpPort: "eighty" must be an integer from 1 to 65535 \(from the command line\)/);
    expect(result.stderr).toMatch(/dbUser: "pg_admin" must not start with "pg_"/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('exits 2 for an unreadable answers file and an unknown flag', () => {
    const directory = workspace();
    const missing = run('node', [OWN_BIN, '--answers', 'nope.json'], directory);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/Cannot read answers file .*nope\.json: ENOENT/);
    const unknown = run('node', [OWN_BIN, '--no-redsi'], directory);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option: --no-redsi/);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('documents every answer flag and the exit codes in --help', () => {
    const result = run('node', [OWN_BIN, '--help'], workspace());
    expect(result.status).toBe(0);
    for (const flag of [
      '--project-name',
      '--db-name',
      '--db-user',
      '--server-name',
      '--http-port',
      '--redis, --no-redis',
      '--memory-nginx',
      '--memory-redis',
      '--routes',
      '--answers',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/Exit codes:\n\s+0 +success\n\s+1 +invalid answers/);
  });

  it('never prompts and never hangs without a terminal: missing answers take defaults, listed', () => {
    const directory = workspace();
    mkdirSync(join(directory, 'my-app'));
    const result = spawnSync('node', [OWN_BIN], {
      cwd: join(directory, 'my-app'),
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] },
      timeout: 30_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    expect(result.status).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(
      /Defaults used for: projectName="my-app", dbName="my_app", dbUser="app"/,
    );
    expect(
      JSON.parse(readFileSync(join(directory, 'my-app/.yo-rc.json'), 'utf8'))['generator-secure-stack'].projectName,
    ).toBe('my-app');
  });

  it('stops quietly when its reader does (`secure-stack | head -n 1`): the stack written, no stack trace', () => {
    const directory = workspace();
    // The reader exits at once, so the run meets a closed pipe with most of its lines unwritten.
    const result = spawnSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        'node "$0" --answers "$1" | true; echo "bin:${PIPESTATUS[0]}"',
        OWN_BIN,
        EXAMPLE_ANSWERS_JSON,
      ],
      { cwd: directory, encoding: 'utf8', env: { PATH: process.env['PATH'], CI: 'true' }, timeout: 30_000 },
    );
    expect(result.stdout.trim()).toBe('bin:0');
    expect(result.stderr).toBe('');
    expect(readFileSync(join(directory, 'compose.yaml'), 'utf8')).toContain('services:');
  });
});
