/** The pass/fail table `verify` prints, one row per check, plain text (CI logs, no colour). */
import type { CheckResult } from './checks.js';
import { escapeControls } from '../generators/lib/errors.js';

const GROUP_NUMBERS: Record<string, string> = {
  health: '1',
  routing: '2',
  isolation: '3',
  auth: '4',
  secrets: '5',
  persistence: '6',
  audit: '7',
};
const MAX_DETAIL = 110;

/** Escapes control characters so nothing read from a container can forge or hide lines in a log. */
const clean = (text: string) => escapeControls(text);

export function formatReport(results: readonly CheckResult[]): string {
  const rows = results.map(
    (result) =>
      [
        result.ok ? 'PASS' : 'FAIL',
        `${GROUP_NUMBERS[result.group] ?? '?'} ${result.group}`,
        clean(result.name),
        clean(result.detail).slice(0, MAX_DETAIL),
      ] as const,
  );
  const width = (column: 1 | 2) => Math.max(...rows.map((row) => row[column].length), 5);
  const lines = rows.map(([status, group, name, detail]) =>
    `${status}  ${group.padEnd(width(1))}  ${name.padEnd(width(2))}  ${detail}`.trimEnd(),
  );
  const failed = results.filter((result) => !result.ok).length;
  const details = results.flatMap((result) => (result.lines ?? []).map(clean));
  if (details.length > 0) lines.push('', ...details);
  lines.push('', `${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}
