/** Rules that join two answers, checked once every answer is valid on its own. */
import { formatMebibytes } from './memory-size.js';
import type { FieldKey, FlatAnswers } from './field.js';
import { ALL_INTERFACES } from './types.js';
import { tmpfsMount } from '../stack/tuning.js';

/** nginx's /tmp for a budget: request bodies beyond its small memory buffer are written there. */
export function nginxScratchBytes(nginxBudgetBytes: number): number {
  return tmpfsMount('/tmp', nginxBudgetBytes).sizeBytes;
}

/** The problems of the answers together, each naming its field, the value and the rule. */
export function crossFieldProblems(flat: FlatAnswers): { field: FieldKey; value: unknown; rule: string }[] {
  const problems: { field: FieldKey; value: unknown; rule: string }[] = [];
  if (flat.tls === 'provided') {
    if (flat.tlsCert === null)
      problems.push({ field: 'tlsCert', value: null, rule: 'is required when tls is "provided"' });
    if (flat.tlsKey === null)
      problems.push({ field: 'tlsKey', value: null, rule: 'is required when tls is "provided"' });
  }
  if (flat.tls !== 'off' && flat.httpsPort === flat.httpPort) {
    problems.push({ field: 'httpsPort', value: flat.httpsPort, rule: 'must differ from httpPort' });
  }
  // Browsers preload only names with a publicly trusted certificate, and leaving the list takes
  // months: never for a self-signed certificate, and never by default.
  if (flat.hstsPreload && flat.tls !== 'provided') {
    problems.push({
      field: 'hstsPreload',
      value: true,
      rule: `needs tls "provided": a ${flat.tls === 'off' ? 'stack without HTTPS' : 'self-signed certificate'} cannot be preloaded`,
    });
  }
  // nginx writes a body beyond its memory buffer to /tmp, a tmpfs sized from its budget: a body
  // that cannot fit there would fail with 500 however the rest of the stack is doing.
  const scratch = nginxScratchBytes(flat['memory.nginx'].bytes);
  if (flat.maxBodySize.bytes > scratch) {
    problems.push({
      field: 'maxBodySize',
      value: flat.maxBodySize.text,
      rule: `must fit nginx's /tmp, ${formatMebibytes(scratch)} (a quarter of memory.nginx ${flat['memory.nginx'].text}, at most 64m): lower it or raise memory.nginx`,
    });
  }
  // A Swarm service's published port has no host address: it listens on every address of its
  // node. Writing the stack file anyway would silently widen what the user asked for.
  if (flat.swarm && flat.bindAddress !== ALL_INTERFACES) {
    problems.push({
      field: 'bindAddress',
      value: flat.bindAddress,
      rule: `must be "${ALL_INTERFACES}" with swarm: Swarm publishes a port on every address of its node`,
    });
  }
  return problems;
}
