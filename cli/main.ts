#!/usr/bin/env node
/**
 * The `secure-stack` bin: runs the same generator as `yo secure-stack`, in the current directory,
 * as any user (yo refuses root, CI often is root). yeoman-environment is loaded only when a run
 * needs it, so --help answers at once.
 */
import { fileURLToPath } from 'node:url';
import { helpText } from '../generators/app/command.js';
import { ExitCode, UserError } from '../generators/lib/errors.js';

const GENERATOR_NAMESPACE = 'secure-stack:app';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return ExitCode.ok;
  }
  const { createEnv } = await import('yeoman-environment');
  const env = createEnv({ cwd: process.cwd() });
  env.register(fileURLToPath(new URL('../generators/app/index.js', import.meta.url)), { namespace: GENERATOR_NAMESPACE });
  await env.run([GENERATOR_NAMESPACE, ...argv]);
  return ExitCode.ok;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError) {
      // A user's mistake: the message says what to fix; a stack trace would only hide it.
      process.stderr.write(`${error.message}\n`);
      process.exitCode = error.code;
    } else {
      process.stderr.write(`secure-stack: unexpected error (a bug; please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 70;
    }
  },
);
