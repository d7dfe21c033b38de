/**
 * The command line of the generator, derived from the answers schema: one flag per answer, plus
 * the flags that steer a run. Shared by `yo secure-stack` and the `secure-stack` bin.
 */
import { FIELD_LIST } from '../lib/answers/fields.js';
import { ExitCode, UserError } from '../lib/errors.js';

/** A command-line option: an answer's flag or one that steers the run. */
export interface OptionDeclaration {
  name: string;
  type: 'string' | 'boolean';
  description: string;
}

export const RUN_FLAGS: readonly OptionDeclaration[] = [
  { name: 'answers', type: 'string', description: 'Answers file (JSON or YAML); implies a non-interactive run' },
  {
    name: 'interactive',
    type: 'boolean',
    description: 'Ask for missing answers even without a terminal or with CI set',
  },
  {
    name: 'check',
    type: 'boolean',
    description: 'Drift check: write nothing, exit 4 listing the files a run would change',
  },
  { name: 'dry-run', type: 'boolean', description: 'Show what a run would do, write nothing' },
];

export function optionDeclarations(): OptionDeclaration[] {
  return [
    ...FIELD_LIST.map((field) => ({
      name: field.flag,
      type: field.flagType,
      description: `${field.description} [answer: ${field.key}; default: ${field.defaultText}]`,
    })),
    ...RUN_FLAGS,
  ];
}

/** Flags on the raw command line that no declared option knows, e.g. a typo like --http-prot. */
export function unknownFlags(args: readonly string[], known: ReadonlySet<string>): string[] {
  return args
    .filter((arg) => arg.startsWith('--') && arg.length > 2)
    .map((arg) => arg.slice(2).split('=')[0]!)
    .filter((name) => !known.has(name) && !(name.startsWith('no-') && known.has(name.slice(3))));
}

/** The one wording of an unknown flag, for `yo secure-stack` and the bin alike. */
export function unknownFlagsError(unknown: readonly string[]): UserError {
  return new UserError(
    `Unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.map((name) => `--${name}`).join(', ')}. Run with --help for the list.`,
    ExitCode.usage,
  );
}

export const EXIT_CODES_HELP = [
  'Exit codes:',
  `  ${ExitCode.ok}  success`,
  `  ${ExitCode.invalidAnswers}  invalid answers (each problem names the field, the value and the rule; nothing was written)`,
  `  ${ExitCode.usage}  usage error (unknown flag, unreadable answers file)`,
  `  ${ExitCode.mergeConflicts}  merge conflicts left in files (re-run inside a generated repository)`,
  `  ${ExitCode.driftFound}  drift found by --check`,
].join('\n');

export function helpText(): string {
  const lines = optionDeclarations().map((option) => {
    const flag = option.type === 'boolean' ? `--${option.name}, --no-${option.name}` : `--${option.name} VALUE`;
    return `  ${flag.padEnd(30)} ${option.description}`;
  });
  return [
    'Usage: secure-stack [options]        (or: yo secure-stack [options])',
    '       secure-stack verify [--help]  checks the stack running from this repository',
    '',
    'Writes a secure Docker Compose stack (nginx, Django, PostgreSQL, Redis) into the current directory.',
    'Answers come from, highest first: flags, --answers FILE, .yo-rc.json of a previous run, prompts, defaults.',
    'Runs without prompts when --answers is given, stdin is not a terminal, or CI is set.',
    '',
    'Options:',
    ...lines,
    `  ${'--help'.padEnd(30)} Show this help`,
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}
