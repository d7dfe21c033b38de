#!/usr/bin/env node
/**
 * The `secure-stack` bin: the same generator as `yo secure-stack`, in the current directory, as
 * any user (yo refuses root; CI often is root). A non-interactive run calls generators/lib/run
 * directly; only a run that must ask questions loads yeoman-environment and its terminal adapter,
 * which costs several times the whole generation.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { helpText, optionDeclarations, unknownFlags, unknownFlagsError } from '../generators/app/command.js';
import { STACK_FILES } from '../generators/app/files.js';
import { ExitCode, isUserError, UserError } from '../generators/lib/errors.js';
import { collectAnswers, isInteractive } from '../generators/lib/run/collect-answers.js';
import type { RunLog } from '../generators/lib/run/run-log.js';
import { runMode, writeStack } from '../generators/lib/run/write-stack.js';
import { recoverInterruptedRun } from '../generators/lib/write/transaction.js';

const GENERATOR_NAMESPACE = 'secure-stack:app';

const terminalLog: RunLog = {
  info: (text) => process.stdout.write(`${text}\n`),
  ok: (text) => process.stdout.write(`${text}\n`),
};

function parseFlags(argv: string[]): Record<string, unknown> {
  const options = Object.fromEntries(
    optionDeclarations().map((option) => [option.name, { type: option.type }] as const),
  );
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    });
    if (positionals.length > 0) throw new Error(`Unexpected argument ${JSON.stringify(positionals[0])}`);
    return values;
  } catch (error) {
    // Unknown flags are named as the generator names them for `yo secure-stack` (unknownFlags),
    // from the arguments, not from Node's wording; other parse errors keep Node's first sentence.
    if ((error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const known = new Set([...Object.keys(options), 'help']);
      const unknown = unknownFlags(argv, known);
      if (unknown.length > 0) throw unknownFlagsError(unknown);
    }
    throw new UserError(`${(error as Error).message.split('. ')[0]}. Run with --help for the list.`, ExitCode.usage);
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'verify') {
    // The checks of a running stack: a separate command with flags of its own.
    const { runVerify } = await import('../verify/command.js');
    return runVerify(argv.slice(1), process.cwd());
  }
  const options = parseFlags(argv);
  if (options['help']) {
    process.stdout.write(`${helpText()}\n`);
    return ExitCode.ok;
  }
  const root = process.cwd();
  if (isInteractive(options)) {
    const { createEnv } = await import('yeoman-environment');
    const env = createEnv({ cwd: root });
    env.register(fileURLToPath(new URL('../generators/app/index.js', import.meta.url)), {
      namespace: GENERATOR_NAMESPACE,
    });
    await env.run([GENERATOR_NAMESPACE, ...argv]);
    return ExitCode.ok;
  }
  recoverInterruptedRun(root);
  const answers = await collectAnswers({ root, options, log: terminalLog });
  writeStack(root, answers, STACK_FILES, runMode(options), terminalLog);
  return ExitCode.ok;
}

// A reader that stops early (`secure-stack | head`): stop quietly, as a tool killed by SIGPIPE
// would, rather than crash with a stack trace. Writes of the repository are journaled.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? ExitCode.ok);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isUserError(error)) {
      // A user's mistake: the message says what to fix; a stack trace would only hide it.
      process.stderr.write(`${error.message}\n`);
      process.exitCode = error.code;
    } else {
      process.stderr.write(
        `secure-stack: unexpected error (a bug; please report it):\n${(error as Error)?.stack ?? String(error)}\n`,
      );
      process.exitCode = ExitCode.internalError;
    }
  },
);
