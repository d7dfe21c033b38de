/**
 * testssl.sh (Debian's package; its command is `testssl`) against nginx's published HTTPS port on
 * loopback, read from its JSON file, never from its screen. Two kinds of finding: anything it
 * rates LOW or worse (or WARN: a probe that could not run), and any property the stack promises
 * that its answer does not show (TLS 1.3 offered, say), so a check that silently did not run is
 * never a pass.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from './findings.js';

export const TESTSSL_COMMAND = 'testssl';

export interface TestsslTarget {
  /** The name nginx serves (SNI and Host): the default server refuses any other. */
  serverName: string;
  /** The published HTTPS port; testssl connects to 127.0.0.1 only. */
  port: number;
  /** Trust anchors for the chain-of-trust test: the stack's own certificate when it is self-signed. */
  caFiles: string[];
}

/** What the generated stack promises, by testssl's finding id: the finding must match. */
const PROMISED: Record<string, RegExp> = {
  SSLv2: /^not offered/,
  SSLv3: /^not offered/,
  TLS1: /^not offered/,
  TLS1_1: /^not offered/,
  TLS1_2: /^offered/,
  TLS1_3: /^offered/,
  cipherlist_NULL: /^not offered/,
  cipherlist_aNULL: /^not offered/,
  cipherlist_EXPORT: /^not offered/,
  cipherlist_LOW: /^not offered/,
  cipherlist_3DES_IDEA: /^not offered/,
  PFS: /^offered/,
  HSTS_time: /^\d+ days/,
};
/** The vulnerabilities the issue names: each must be tested and rated OK. */
const VULNERABILITIES = [
  'heartbleed',
  'CCS',
  'ROBOT',
  'CRIME_TLS',
  'BREACH',
  'POODLE_SSL',
  'SWEET32',
  'FREAK',
  'DROWN',
  'LOGJAM',
  'BEAST',
  'LUCKY13',
  'RC4',
];
const RATED_SEVERITIES = new Set(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'WARN']);

interface TestsslEntry {
  id: string;
  severity: string;
  finding: string;
}

/** Findings from testssl's flat JSON output for `target`. */
export function testsslFindings(entries: readonly TestsslEntry[], target: TestsslTarget): Finding[] {
  const location = `${target.serverName}:${target.port}`;
  const findings: Finding[] = [];
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  for (const entry of entries) {
    if (RATED_SEVERITIES.has(entry.severity))
      findings.push({ scanner: 'testssl', id: entry.id, location, message: `${entry.severity}: ${entry.finding}` });
  }
  for (const [id, expected] of Object.entries(PROMISED)) {
    const entry = byId.get(id);
    if (!entry || !expected.test(entry.finding))
      findings.push({
        scanner: 'testssl',
        id: `promised:${id}`,
        location,
        message: `expected ${expected.source}, got ${entry ? `"${entry.finding}"` : 'no result'}`,
      });
  }
  for (const id of VULNERABILITIES) {
    const entry = byId.get(id);
    if (entry?.severity !== 'OK')
      findings.push({
        scanner: 'testssl',
        id: `promised:${id}`,
        location,
        message: `expected not vulnerable (OK), got ${entry ? `${entry.severity} "${entry.finding}"` : 'no result'}`,
      });
  }
  return findings;
}

export interface TestsslRun {
  findings: Finding[];
  /** testssl's screen output, for a failure report. */
  screen: string;
  seconds: number;
}

/** A probe that could not connect says nothing about the server: the run is repeated, once. */
const CONNECT_PROBLEM = /connect problem/i;

/**
 * Runs the protocol, cipher, forward-secrecy, server-default, header and vulnerability tests (-p
 * -s -f -S -P -h -U). About 30 s on a 2-core machine. Nothing leaves loopback: --ip pins the
 * address, --nodns none stops its CAA and reverse look-ups, and without --phone-out no CRL or
 * OCSP responder is asked. On a loaded machine one of
 * its hundreds of connections can fail ("check failed because of connect problem"); then the
 * whole run is repeated once and the second run's findings stand.
 */
export async function runTestssl(target: TestsslTarget, timeoutMs = 300_000): Promise<TestsslRun> {
  const first = await runTestsslOnce(target, timeoutMs);
  if (!first.findings.some((finding) => CONNECT_PROBLEM.test(finding.message))) return first;
  const second = await runTestsslOnce(target, timeoutMs);
  return { ...second, seconds: first.seconds + second.seconds };
}

async function runTestsslOnce(target: TestsslTarget, timeoutMs: number): Promise<TestsslRun> {
  const workspace = mkdtempSync(join(tmpdir(), 'testssl-'));
  const jsonFile = join(workspace, 'findings.json');
  const args = [
    '--quiet',
    '--color',
    '0',
    '--warnings',
    'off',
    '--connect-timeout',
    '30',
    '--openssl-timeout',
    '30',
    '--jsonfile',
    jsonFile,
    '--ip',
    '127.0.0.1',
    '--nodns',
    'none',
    ...(target.caFiles.length > 0 ? ['--add-ca', target.caFiles.join(',')] : []),
    '-p',
    '-s',
    '-f',
    '-S',
    '-P',
    '-h',
    '-U',
    `https://${target.serverName}:${target.port}/`,
  ];
  const started = Date.now();
  try {
    const screen = await new Promise<string>((resolve, reject) => {
      const child = spawn(TESTSSL_COMMAND, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: workspace });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // testssl's exit code counts findings; the JSON file says what they were.
      child.on('close', () => {
        clearTimeout(timer);
        resolve(output);
      });
    });
    let entries: TestsslEntry[];
    try {
      entries = JSON.parse(readFileSync(jsonFile, 'utf8')) as TestsslEntry[];
    } catch (error) {
      throw new Error(
        `testssl wrote no readable JSON (${(error as Error).message}); its output:\n${screen.slice(-2000)}`,
      );
    }
    return { findings: testsslFindings(entries, target), screen, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** testssl's version line, or undefined when it is not installed. */
export function testsslVersion(output: string): string | undefined {
  return /testssl(?:\.sh)?\s+(\d+\.\d+\S*)\s+from/.exec(output)?.[1];
}
