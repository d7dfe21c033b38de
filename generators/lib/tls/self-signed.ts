/**
 * A self-signed certificate for tls "self-signed": an ECDSA P-256 key from node:crypto and a
 * minimal X.509 v3 certificate for the stack's host name, DER-encoded here. Made once at scaffold
 * time and, like every secret, never regenerated.
 *
 * Why not a library: Node can sign but not build certificates. @peculiar/x509 2.2.0 (measured on
 * Node 20) needs a global Reflect polyfill and a dependency-injection container at load, is async
 * only, brings 20 packages (770 KB bundled, more than the whole bin) and 42 ms of start-up (17 ms
 * even loaded lazily); pkijs is async WebCrypto on asn1js (133 KB alone); node-forge builds no
 * ECDSA certificates. Four fixed extensions do not pay for that; test/tls/self-signed.test.ts
 * has Node's X.509 parser and `openssl verify` judge what this writes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  explicit,
  integer,
  octetString,
  oid,
  pem,
  sequence,
  set,
  time,
  tlv,
  TRUE,
  utf8String,
} from './der.js';

/** 825 days: the longest validity Apple platforms accept for a TLS server certificate. */
const VALIDITY_DAYS = 825;

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = address.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return Buffer.concat(all.map((g) => Buffer.from([g >> 8, g & 0xff])));
}

const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(oid(id), ...(critical ? [TRUE] : []), octetString(value));

function certificateDer(serverName: string, privateKey: KeyObject): Buffer {
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8String(serverName))));
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + VALIDITY_DAYS * 86_400_000);
  const subjectAltName = isIP(serverName)
    ? tlv(0x87, ipBytes(serverName))
    : tlv(0x82, Buffer.from(serverName, 'ascii'));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])), // positive, 16 bytes
    ecdsaWithSha256,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        extension('2.5.29.19', true, sequence()), // basicConstraints: not a CA
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
        extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', false, sequence(subjectAltName)),
      ),
    ),
  );
  return sequence(tbs, ecdsaWithSha256, bitString(sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' })));
}

/** A new private key, PKCS #8 PEM. */
export function newPrivateKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

/** The self-signed certificate of a key, PEM. */
export function certificateForKey(serverName: string, keyPem: string): string {
  return pem('CERTIFICATE', certificateDer(serverName, createPrivateKey(keyPem)));
}
