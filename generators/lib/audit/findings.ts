/**
 * What the third-party scanners (and our own rules that mirror gixy and hadolint) report about a
 * generated stack, in one shape, so the tests and `secure-stack verify --audit` judge findings
 * the same way: a finding fails unless the reviewed allow-list accepts it, with its reason.
 */
export type ScannerName = 'testssl' | 'bandit' | 'shellcheck' | 'yamllint' | 'nginx-rules' | 'dockerfile-rules';

export interface Finding {
  scanner: ScannerName;
  /** The scanner's own id for the rule (testssl's "id", bandit's "B105", shellcheck's "SC2086", ...). */
  id: string;
  /** Where: a file (relative to the repository) and line, or a host:port for testssl. */
  location: string;
  message: string;
}

export interface AllowedFinding {
  scanner: ScannerName;
  id: string;
  /** Only where the location matches; every location when absent. */
  location?: RegExp;
  /** Only when the scanner's message matches: the exact form reviewed, not the rule's every hit. */
  message?: RegExp;
  /** Why the finding is acceptable in what we generate: reviewed, and printed by `verify --audit`. */
  reason: string;
  /** Seen only on some runs (a probe that could not complete): exempt from the "every entry is used" test. */
  intermittent?: true;
}

export function isAllowed(finding: Finding, allowList: readonly AllowedFinding[]): AllowedFinding | undefined {
  return allowList.find(
    (entry) =>
      entry.scanner === finding.scanner &&
      entry.id === finding.id &&
      (entry.location === undefined || entry.location.test(finding.location)) &&
      (entry.message === undefined || entry.message.test(finding.message)),
  );
}

/** Findings the allow-list does not accept. */
export function unacceptedFindings(findings: readonly Finding[], allowList: readonly AllowedFinding[]): Finding[] {
  return findings.filter((finding) => isAllowed(finding, allowList) === undefined);
}

export function formatFinding(finding: Finding): string {
  return `${finding.scanner} ${finding.id} at ${finding.location}: ${finding.message}`;
}
