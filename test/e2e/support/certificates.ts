/**
 * A "provided" certificate as a user would bring one: an RSA leaf for the server name, signed by a
 * CA made for the test, written as a full chain (leaf, then CA) beside its key. RSA, where the
 * self-signed stack is ECDSA, so the audit sees the RSA suites of the profile too. 90 days, as
 * Let's Encrypt issues: testssl rates a certificate that expires within 60 days a finding.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/** Writes certs/ca.pem, certs/<name>.crt (full chain) and certs/<name>.key into `directory`. */
export function writeProvidedCertificate(
  directory: string,
  serverName: string,
  name = 'shop',
): { chain: string; key: string; ca: string } {
  const certs = join(directory, 'certs');
  mkdirSync(certs, { recursive: true });
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '365',
      '-subj',
      '/CN=secure-stack e2e test CA',
    ],
    certs,
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${serverName}`,
    ],
    certs,
  );
  writeFileSync(
    join(certs, 'leaf.ext'),
    `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n`,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '90',
      '-sha256',
      '-extfile',
      'leaf.ext',
      '-out',
      'leaf.pem',
    ],
    certs,
  );
  writeFileSync(
    join(certs, `${name}.crt`),
    readFileSync(join(certs, 'leaf.pem'), 'utf8') + readFileSync(join(certs, 'ca.pem'), 'utf8'),
  );
  return { chain: `certs/${name}.crt`, key: `certs/${name}.key`, ca: join(certs, 'ca.pem') };
}
