/** Runs the generator in-process through yeoman-test, into a fresh directory. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helpers from 'yeoman-test';
import SecureStackGenerator from '../../generators/app/generator.js';
import { PACKAGE_ROOT } from '../../generators/lib/package-info.js';
import { certificateForKey, newPrivateKeyPem } from '../../generators/lib/tls/self-signed.js';

/** The repository: the package's own root, as the generator finds it. */
export const REPO_ROOT = PACKAGE_ROOT;
export const EXAMPLE_ANSWERS_JSON = join(REPO_ROOT, 'examples/answers.json');
export const EXAMPLE_ANSWERS_YAML = join(REPO_ROOT, 'examples/answers.yaml');

export function freshDirectory(name = 'stack'): string {
  const directory = join(mkdtempSync(join(tmpdir(), 'secure-stack-test-')), name);
  mkdirSync(directory);
  return directory;
}

/** A destination holding the user's own certificate and key (certs/shop.crt, certs/shop.key), for tls "provided". */
export function withProvidedCertificate(): string {
  const directory = freshDirectory();
  mkdirSync(join(directory, 'certs'));
  const key = newPrivateKeyPem();
  writeFileSync(join(directory, 'certs/shop.key'), key, { mode: 0o644 });
  writeFileSync(join(directory, 'certs/shop.crt'), certificateForKey('shop.localhost', key));
  return directory;
}

export interface GenerateOptions {
  /** Generator options, keyed by flag name (e.g. { 'http-port': '9000', answers: 'a.json' }). */
  options?: Record<string, unknown>;
  /** Prompt answers, keyed by flag name; implies an interactive run. */
  prompts?: Record<string, unknown>;
  directory?: string;
  /** Raw command-line arguments, parsed by the generator as a shell's would be. */
  args?: string[];
}

export async function generate({
  options = {},
  prompts,
  directory = freshDirectory(),
  args = [],
}: GenerateOptions = {}): Promise<string> {
  const interactive: Record<string, unknown> = prompts ? { interactive: true } : {};
  await helpers
    .run(SecureStackGenerator, { namespace: 'secure-stack:app' })
    .cd(directory)
    .withArguments(args)
    .withOptions({ ...options, ...interactive })
    .withAnswers(prompts ?? {});
  return directory;
}

/** The error a run is expected to fail with (a run that succeeds fails the test). */
export async function failure(run: Promise<unknown>): Promise<Error & { code?: number }> {
  return run.then(
    () => {
      throw new Error('the run was expected to fail');
    },
    (error: Error & { code?: number }) => error,
  );
}
