/**
 * Diffie-Hellman parameters for nginx's DHE cipher suites (Mozilla's intermediate profile keeps
 * two for RSA certificates): the 2048-bit MODP group of RFC 3526, a published safe prime, so
 * there is nothing to generate or keep secret. nginx has no built-in group and otherwise never
 * offers DHE.
 */
import { getDiffieHellman } from 'node:crypto';
import { integer, pem, sequence } from '../der.js';

export function dhParamsPem(): string {
  const group = getDiffieHellman('modp14');
  return pem('DH PARAMETERS', sequence(integer(group.getPrime()), integer(group.getGenerator())));
}
