/**
 * The self-signed certificate, judged by Node's X.509 parser and by `openssl verify`, not by our
 * own DER encoder: for a DNS name, an IPv4 and an IPv6 address.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { time } from '../../generators/lib/tls/der.js';
import { certificateForKey, newPrivateKeyPem } from '../../generators/lib/tls/self-signed.js';
import { hasCommand, prerequisite } from '../support/prerequisites.js';

const haveOpenssl = prerequisite('openssl', () => hasCommand('openssl', ['version']), 'apt-get install openssl');
const DAY = 86_400_000;

describe.each([
  ['a DNS name', 'shop.example.com', 'DNS:shop.example.com'],
  ['an IPv4 address', '192.0.2.7', 'IP Address:192.0.2.7'],
  ['an IPv6 address', '2001:db8::1', 'IP Address:2001:DB8:0:0:0:0:0:1'],
])('a self-signed certificate for %s', (_kind, serverName, subjectAltName) => {
  const keyPem = newPrivateKeyPem();
  const pem = certificateForKey(serverName, keyPem);
  const certificate = new X509Certificate(pem);

  it('belongs to its key, names the host, and is a P-256 leaf for 825 days', () => {
    expect(certificate.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(certificate.subject).toBe(`CN=${serverName}`);
    expect(certificate.issuer).toBe(certificate.subject);
    expect(certificate.subjectAltName).toBe(subjectAltName);
    expect(certificate.checkHost(serverName) ?? certificate.checkIP(serverName)).toBeTruthy();
    expect(certificate.ca).toBe(false);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node names extKeyUsage keyUsage
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const validFrom = Date.parse(certificate.validFrom);
    expect(validFrom).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(certificate.validTo) - validFrom).toBe(825 * DAY);
    // Positive (first byte below 0x80) and 16 bytes: RFC 5280's serial, unpredictable.
    expect(certificate.serialNumber).toMatch(/^01[0-9A-F]{30}$/);
  });

  it.runIf(haveOpenssl)('verifies with openssl as its own trust anchor, for TLS server use', () => {
    const directory = mkdtempSync(join(tmpdir(), 'self-signed-'));
    writeFileSync(join(directory, 'cert.pem'), pem);
    const result = spawnSync(
      'openssl',
      [
        'verify',
        '-purpose',
        'sslserver',
        '-x509_strict',
        '-CAfile',
        join(directory, 'cert.pem'),
        join(directory, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(result.stdout + result.stderr).toBe(`${join(directory, 'cert.pem')}: OK\n`);
  });
});

describe('certificate time', () => {
  it('is UTCTime until 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    expect(time(new Date('2049-12-31T23:59:59Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });
});
