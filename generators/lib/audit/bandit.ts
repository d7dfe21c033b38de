/** bandit, the Python security linter, on the generated Django backend. */
import { relative, resolve } from 'node:path';
import type { Finding } from './findings.js';
import { runTool, unreadableOutput, type ExternalTool } from './external-tool.js';

export const BANDIT: ExternalTool = {
  scanner: 'bandit',
  command: 'bandit',
  debianPackage: 'bandit',
  versionPattern: /^bandit (\S+)/m,
};

interface BanditReport {
  results: {
    filename: string;
    line_number: number;
    test_id: string;
    test_name: string;
    issue_severity: string;
    issue_confidence: string;
    issue_text: string;
  }[];
  errors: { filename: string; reason: string }[];
}

/**
 * Every finding of bandit on `directory` (relative to the repository), at every severity.
 * `# nosec` comments are ignored: only the reviewed allow-list accepts a finding.
 */
export function runBandit(repositoryDirectory: string, directory = 'backend'): Finding[] {
  const args = ['--recursive', '--format', 'json', '--quiet', '--ignore-nosec', directory];
  const output = runTool(BANDIT, args, { cwd: repositoryDirectory });
  let report: BanditReport;
  try {
    report = JSON.parse(output.stdout) as BanditReport;
  } catch {
    throw unreadableOutput(BANDIT, output);
  }
  // Exit 1 means findings; anything else but 0 is bandit failing.
  if ((output.status !== 0 && output.status !== 1) || !Array.isArray(report.results))
    throw unreadableOutput(BANDIT, output);
  const where = (filename: string): string => relative(repositoryDirectory, resolve(repositoryDirectory, filename));
  return [
    ...report.results.map((result) => ({
      scanner: 'bandit' as const,
      id: result.test_id,
      location: `${where(result.filename)}:${result.line_number}`,
      message:
        `${result.test_name} (severity ${result.issue_severity}, confidence ${result.issue_confidence}): ` +
        result.issue_text,
    })),
    // A file bandit could not parse was not audited: that fails too.
    ...(report.errors ?? []).map((error) => ({
      scanner: 'bandit' as const,
      id: 'error',
      location: where(error.filename),
      message: error.reason,
    })),
  ];
}
