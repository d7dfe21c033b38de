/**
 * The reviewed allow-list: findings the scanners report on what we generate that are acceptable,
 * each with its reason. The tests fail on any finding not listed here, and `secure-stack verify
 * --audit` prints the reason beside each accepted finding. Add an entry only with a reason a
 * reviewer can check.
 */
import type { AllowedFinding } from './findings.js';

export const ALLOW_LIST: readonly AllowedFinding[] = [
  {
    scanner: 'nginx-rules',
    id: 'host_spoofing',
    location: /^nginx\/nginx(\.swarm)?\.conf:\d+$/,
    message: /^proxy_set_header Host \$http_host:/,
    reason:
      'proxy_set_header Host $http_host passes the host and port the client sent, so the backend builds ' +
      'absolute URLs and checks CSRF origins with the port the user published. nginx only reaches that ' +
      'server block when the host name equals its exact server_name (every other name gets 444, or a ' +
      "refused TLS handshake), so only the port part is the client's choice, and Django's " +
      'ALLOWED_HOSTS rejects a malformed port with 400.',
  },
  {
    scanner: 'nginx-rules',
    id: 'http_splitting',
    location: /^nginx\/nginx(\.swarm)?\.conf:\d+$/,
    message: /^rewrite \$uri: /,
    reason:
      'rewrite ^ $uri sets the URI to itself, so the backend is sent the normalised path nginx routed on. ' +
      'It is an internal rewrite, never a redirect: no header carries $uri, and nginx re-escapes a changed ' +
      'URI before it proxies it, so a decoded CR or LF goes on as %0D%0A (test/oracles/nginx.test.ts sends one).',
  },
  // testssl.sh 3.0.8 on the HTTPS port (generators/lib/audit/testssl.ts).
  {
    scanner: 'testssl',
    id: 'engine_problem',
    message: /^WARN: No engine or GOST support/,
    reason:
      "About the scanning machine's OpenSSL (Debian's has no GOST engine), not the server: the GOST suites are not tested.",
  },
  {
    scanner: 'testssl',
    id: 'cipher_order',
    message: /^HIGH: NOT a cipher order configured$/,
    reason:
      "Mozilla's intermediate profile sets ssl_prefer_server_ciphers off: every suite offered is ECDHE with AEAD, so " +
      'the client may pick the one its hardware runs fastest (ChaCha20 without AES instructions).',
  },
  {
    scanner: 'testssl',
    id: 'cert_revocation',
    message: /^HIGH: Neither CRL nor OCSP URI provided$/,
    reason:
      'A property of the certificate, which its issuer writes, not of the stack: a self-signed certificate has no ' +
      'issuer to revoke it, and a provided one carries what its CA puts in it (the e2e test CA puts none).',
  },
  {
    scanner: 'testssl',
    id: 'secure_renego',
    message: /^WARN: OpenSSL handshake didn't succeed$/,
    reason:
      'testssl 3.0.8 probes secure renegotiation without SNI ("no SNI needed here"), and the stack refuses every ' +
      "handshake without the server's name (ssl_reject_handshake). Its TLS_extensions probe, with SNI, shows the " +
      'renegotiation_info extension (RFC 5746), and secure_client_renego reports client renegotiation refused.',
  },
  {
    scanner: 'testssl',
    id: 'sessionresumption_ticket',
    message: /^WARN: check failed because of connect problem$/,
    intermittent: true,
    reason:
      'An inconclusive probe, not a finding: on a loaded machine testssl 3.0.8 sometimes fails to connect for its ' +
      'ticket-resumption probe (seen in about one run in three of the e2e suite, twice in a row within a run). The ' +
      'stack sets ssl_session_tickets off (checked in the nginx tests), and on the runs that complete the probe ' +
      'reports tickets not supported.',
  },
];
