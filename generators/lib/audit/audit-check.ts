/**
 * `secure-stack verify --audit` (check 7): the third-party scanners on the user's repository and,
 * with TLS on, testssl.sh on the running stack's HTTPS port. One row per scanner: it passes when
 * every finding is in the reviewed allow-list; a scanner that is not installed is a failed row
 * naming its package, so an audit that could not run is never reported as passed.
 */
import { spawnSync } from 'node:child_process';
import { ALLOW_LIST } from './allow-list.js';
import { formatFinding, isAllowed, type Finding, type ScannerName } from './findings.js';
import { runStaticAudit } from './static-audit.js';
import { runTestssl, TESTSSL_COMMAND, testsslVersion } from './testssl.js';

export interface AuditTarget {
  directory: string;
  /** The running stack's HTTPS listener on loopback, when TLS is on. */
  https?: { serverName: string; port: number; certificateFile: string };
}

export interface AuditRow {
  name: string;
  ok: boolean;
  detail: string;
  /** Every finding, each with the allow-list's reason when it is accepted: printed under the table. */
  lines: string[];
}

/** testssl's version from its banner (-b must come first, and the banner keeps its colours). */
export function installedTestsslVersion(): string | undefined {
  const result = spawnSync(TESTSSL_COMMAND, ['-b'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour codes (ESC [ ... m) of testssl's banner
  return testsslVersion(result.stdout.replace(/\u001b\[[0-9;]*m/g, '')) ?? 'unknown version';
}

export async function auditRows(target: AuditTarget): Promise<AuditRow[]> {
  const result = await runStaticAudit(target.directory);
  const ran = [...result.ran];
  const missing = [...result.missing];
  const findings: Finding[] = [...result.findings];
  if (target.https) {
    const version = installedTestsslVersion();
    if (version === undefined) missing.push({ scanner: 'testssl', install: 'testssl.sh' });
    else {
      const run = await runTestssl({
        serverName: target.https.serverName,
        port: target.https.port,
        caFiles: [target.https.certificateFile],
      });
      findings.push(...run.findings);
      ran.push({ scanner: 'testssl', version });
    }
  }
  const rows: AuditRow[] = ran.map(({ scanner, version }) =>
    scannerRow(
      scanner,
      version,
      findings.filter((finding) => finding.scanner === scanner),
    ),
  );
  for (const { scanner, install } of missing)
    rows.push({
      name: `${scanner} installed`,
      ok: false,
      detail: `not installed: apt-get install ${install}`,
      lines: [],
    });
  return rows;
}

function scannerRow(scanner: ScannerName, version: string, findings: Finding[]): AuditRow {
  const lines: string[] = [];
  const unaccepted: Finding[] = [];
  for (const finding of findings) {
    const entry = isAllowed(finding, ALLOW_LIST);
    if (entry) lines.push(`accepted  ${formatFinding(finding)}`, `          why: ${entry.reason}`);
    else {
      unaccepted.push(finding);
      lines.push(`FINDING   ${formatFinding(finding)}`);
    }
  }
  const detail =
    unaccepted.length > 0
      ? `${unaccepted.length} finding(s): ${unaccepted.map((finding) => finding.id).join(', ')}`
      : `${findings.length} accepted by the allow-list`;
  return {
    name: `${scanner} ${version}: no finding outside the allow-list`,
    ok: unaccepted.length === 0,
    detail,
    lines,
  };
}
