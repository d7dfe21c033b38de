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

  constructor(problems: readonly AnswerProblem[], source?: string) {
    super(formatProblems(problems, source), ExitCode.invalidAnswers);
    this.name = 'InvalidAnswersError';
    this.problems = problems;
  }
}

export function formatProblems(problems: readonly AnswerProblem[], source?: string): string {
  const heading = `Invalid answers${source ? ` in ${source}` : ''} (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was written:`;
  const lines = problems.map((problem) => `  - ${problem.field}: ${describeValue(problem.value)} ${problem.rule}`);
  return [heading, ...lines].join('\n');
}

/** Shows a value safely on one line: control characters escaped, long values cut. */
export function describeValue(value: unknown): string {
  let text: string;
  if (value === undefined) {
    text = 'undefined';
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  // JSON.stringify leaves some characters that fool a terminal (bidi controls, line separators).
  text = text.replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
