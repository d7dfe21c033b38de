/** yamllint on the generated YAML (compose.yaml), with a configuration passed inline. */
import type { Finding } from './findings.js';
import { runTool, unreadableOutput, type ExternalTool } from './external-tool.js';

export const YAMLLINT: ExternalTool = {
  scanner: 'yamllint',
  command: 'yamllint',
  debianPackage: 'yamllint',
  versionPattern: /^yamllint (\S+)/m,
};

/**
 * yamllint's default rules, with two relaxed. Passed with `-d`, so a user's repository needs no
 * .yamllint file and one there cannot loosen the audit.
 * - line-length: the long lines are exec-form commands and healthchecks whose length comes from the
 *   answers (a server name may have 253 characters, database and user names 63), so no fixed
 *   maximum holds; a line's length is style, not a fault in what Compose reads.
 * - document-start: a Compose file is a single document; Docker's own examples and `docker compose
 *   config` write none, and the marker changes nothing in what Compose reads.
 */
export const YAMLLINT_CONFIG = `extends: default
rules:
  line-length: disable
  document-start: disable
`;

const PARSABLE_LINE = /^(.*):(\d+):(\d+): \[(error|warning)\] (.*?)(?: \(([\w-]+)\))?$/;

/** Findings on `files` (relative to the repository), warnings included, located as `path:line`. */
export function runYamllint(
  repositoryDirectory: string,
  files: readonly string[],
  config = YAMLLINT_CONFIG,
): Finding[] {
  if (files.length === 0) return [];
  const output = runTool(YAMLLINT, ['--format', 'parsable', '--config-data', config, '--', ...files], {
    cwd: repositoryDirectory,
  });
  // Exit 1 means errors were found; warnings alone exit 0; anything else is yamllint failing.
  if (output.status !== 0 && output.status !== 1) throw unreadableOutput(YAMLLINT, output);
  const lines = output.stdout.split('\n').filter((line) => line.trim() !== '');
  const findings = lines.map((line): Finding => {
    const match = PARSABLE_LINE.exec(line);
    if (match === null) throw unreadableOutput(YAMLLINT, output);
    const [, file, row, column, level, text, rule = 'syntax'] = match;
    return {
      scanner: 'yamllint',
      id: rule,
      location: `${file}:${row}`,
      message: `${level} at column ${column}: ${text}`,
    };
  });
  if (output.status === 1 && findings.length === 0) throw unreadableOutput(YAMLLINT, output);
  return findings;
}
