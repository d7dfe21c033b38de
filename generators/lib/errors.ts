/**
 * Errors caused by the user (bad answers, bad flags) rather than by a bug.
 * Entry points print only the message of a UserError, never its stack, and exit with its code.
 */
export const ExitCode = {
  ok: 0,
  invalidAnswers: 1,
  usage: 2,
  mergeConflicts: 3,
  driftFound: 4,
  /** secure-stack verify: a check failed (it has no answers to be invalid). */
  checkFailed: 1,
  /** A bug, not a user's mistake (sysexits.h EX_SOFTWARE). */
  internalError: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class UserError extends Error {
  /** Read by `yo` (process.exit(error.code)) and by our own bin. */
  readonly code: ExitCode;

  constructor(message: string, code: ExitCode) {
    super(message);
    this.name = 'UserError';
    this.code = code;
  }
}

/** One broken rule, reported with the field, the offending value and the rule it breaks. */
export interface AnswerProblem {
  field: string;
  value: unknown;
  rule: string;
}

export class InvalidAnswersError extends UserError {
  readonly problems: readonly AnswerProblem[];

  constructor(problems: readonly AnswerProblem[]) {
    super(formatProblems(problems), ExitCode.invalidAnswers);
    this.name = 'InvalidAnswersError';
    this.problems = problems;
  }
}

export function formatProblems(problems: readonly AnswerProblem[]): string {
  const heading = `Invalid answers (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was written:`;
  // The field of an unknown key and parts of some rules are raw text from the answers file: a key
  // with a newline or a right-to-left mark would otherwise forge or hide lines of this message.
  const lines = problems.map(
    (problem) => `  - ${describeField(problem.field)}: ${describeValue(problem.value)} ${escapeControls(problem.rule)}`,
  );
  return [heading, ...lines].join('\n');
}

/** A known key as it is; anything else (an unknown key from a file) quoted, escaped and cut like a value. */
function describeField(field: string): string {
  return /^[A-Za-z0-9_.()]{1,64}$/.test(field) ? field : describeValue(field);
}

/**
 * Escapes what fools a terminal or a log reader: C0 and C1 controls (newlines included), bidi
 * controls and marks, zero-width and invisible characters, line and paragraph separators, the BOM.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Shows a value safely on one line: control characters escaped, long values cut. */
export function describeValue(value: unknown): string {
  let text: string;
  if (value === undefined) {
    text = 'undefined';
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    text = String(value); // JSON.stringify would show .inf or .nan from a YAML file as null
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      // A cycle, or nesting too deep for JSON.stringify (and then for String too).
      try {
        text = String(value);
      } catch {
        text = '(nested too deeply to show)';
      }
    }
  }
  // JSON.stringify leaves some characters that fool a terminal (bidi controls, line separators),
  // and String() of a value JSON cannot show escapes nothing.
  text = escapeControls(text);
  if (text.length <= 80) return text;
  // Cut before a surrogate pair rather than through it: half a character is not well-formed text.
  const cut = /[\ud800-\udbff]/.test(text.charAt(76)) ? 76 : 77;
  return `${text.slice(0, cut)}...`;
}

/**
 * True for a UserError from any copy of this module: the bundled bin and the generator modules
 * that yeoman-environment loads for an interactive run each have their own class.
 */
export function isUserError(error: unknown): error is UserError {
  if (error instanceof UserError) return true;
  return (
    error instanceof Error &&
    ['UserError', 'InvalidAnswersError'].includes(error.name) &&
    typeof (error as { code?: unknown }).code === 'number'
  );
}
