/**
 * How testssl.sh's JSON is judged (generators/lib/audit/testssl.ts), on the output of a real run:
 * testssl 3.0.8 against the self-signed example stack's nginx (fixture), then with a property broken.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOW_LIST } from '../../generators/lib/audit/allow-list.js';
import { installedTestsslVersion } from '../../generators/lib/audit/audit-check.js';
import { isAllowed, unacceptedFindings } from '../../generators/lib/audit/findings.js';
import { testsslFindings, testsslVersion } from '../../generators/lib/audit/testssl.js';
import { REPO_ROOT } from '../support/generate.js';
import { hasCommand, prerequisite } from '../support/prerequisites.js';

const haveTestssl = prerequisite(
  'testssl.sh',
  () => hasCommand('testssl', ['-b']),
  'scripts/test-prerequisites.sh (apt-get install testssl.sh)',
);

type Entry = { id: string; severity: string; finding: string };
const RUN = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test/fixtures/testssl-3.0.8-self-signed.json'), 'utf8'),
) as Entry[];
const TARGET = { serverName: 'shop.localhost', port: 8443, caFiles: [] };
const edited = (id: string, change: Partial<Entry> | null) =>
  RUN.flatMap((entry) => (entry.id !== id ? [entry] : change === null ? [] : [{ ...entry, ...change }]));

describe('testssl findings', () => {
  it('on the generated stack: only what the allow-list accepts, and every testssl entry of it is used', () => {
    const findings = testsslFindings(RUN, TARGET);
    expect(unacceptedFindings(findings, ALLOW_LIST)).toEqual([]);
    const used = ALLOW_LIST.filter(
      (entry) =>
        entry.scanner === 'testssl' && !entry.intermittent && !findings.some((finding) => isAllowed(finding, [entry])),
    );
    expect(used.map((entry) => entry.id)).toEqual([]);
  });

  it('TLS 1.3 not offered (the default server without the profile) is a finding', () => {
    const findings = unacceptedFindings(
      testsslFindings(
        edited('TLS1_3', { severity: 'MEDIUM', finding: 'not offered and downgraded to a weaker protocol' }),
        TARGET,
      ),
      ALLOW_LIST,
    );
    expect(findings.map((finding) => finding.id)).toEqual(['TLS1_3', 'promised:TLS1_3']);
  });

  it('TLS 1.0 offered, a weak suite list offered, or a vulnerability rated other than OK is a finding', () => {
    expect(
      unacceptedFindings(
        testsslFindings(edited('TLS1', { severity: 'INFO', finding: 'offered' }), TARGET),
        ALLOW_LIST,
      ).map((f) => f.id),
    ).toEqual(['promised:TLS1']);
    expect(
      unacceptedFindings(
        testsslFindings(edited('cipherlist_3DES_IDEA', { severity: 'INFO', finding: 'offered' }), TARGET),
        ALLOW_LIST,
      ).map((f) => f.id),
    ).toEqual(['promised:cipherlist_3DES_IDEA']);
    expect(
      unacceptedFindings(
        testsslFindings(edited('SWEET32', { severity: 'LOW', finding: 'VULNERABLE' }), TARGET),
        ALLOW_LIST,
      ).map((f) => f.id),
    ).toEqual(['SWEET32', 'promised:SWEET32']);
  });

  it('a promised test that did not run is a finding, never a pass', () => {
    expect(
      unacceptedFindings(testsslFindings(edited('heartbleed', null), TARGET), ALLOW_LIST).map((f) => f.id),
    ).toEqual(['promised:heartbleed']);
    expect(unacceptedFindings(testsslFindings(edited('HSTS_time', null), TARGET), ALLOW_LIST).map((f) => f.id)).toEqual(
      ['promised:HSTS_time'],
    );
  });

  it('an allow-listed id with another message is not accepted', () => {
    const findings = testsslFindings(edited('cipher_order', { severity: 'HIGH', finding: 'something new' }), TARGET);
    expect(unacceptedFindings(findings, ALLOW_LIST).map((f) => f.id)).toEqual(['cipher_order']);
  });

  it("reads testssl's version from its banner", () => {
    expect(testsslVersion('    testssl       3.0.8 from https://testssl.sh/')).toBe('3.0.8');
    expect(testsslVersion('no banner')).toBeUndefined();
  });

  it.runIf(haveTestssl)('finds the installed testssl and its version, as verify --audit does', () => {
    expect(installedTestsslVersion()).toMatch(/^3\.\d+\.\d+/);
  });
});
