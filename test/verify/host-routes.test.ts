/** verify's guard against probes that would leave the machine (checks.ts offHostRoute), on real `ip` output. */
import { describe, expect, it } from 'vitest';
import { offHostRoute } from '../../verify/checks.js';

const DEFAULT = 'default via 192.0.2.1 dev eth0 \n';

describe('offHostRoute', () => {
  it('an overlay subnet the host does not route goes out of the default route: not to be probed', () => {
    expect(offHostRoute('198.19.129.4 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \\    cache \n', DEFAULT)).toBe(
      'out of eth0 via 192.0.2.1',
    );
  });
  it("an engine bridge's subnet is on the host: probed as before", () => {
    expect(offHostRoute('198.19.8.2 dev br-4f1c2a9d3e7b src 198.19.8.1 uid 0 \\    cache \n', DEFAULT)).toBeUndefined();
    expect(offHostRoute('198.18.128.5 dev podman1 src 198.18.128.1 uid 0 \\    cache \n', DEFAULT)).toBeUndefined();
  });
  it('a gateway on another device than the default route, or no output at all, is not off-host', () => {
    expect(offHostRoute('198.19.5.5 via 198.18.251.2 dev sse-swarm0 src 198.18.251.1 \n', DEFAULT)).toBeUndefined();
    expect(offHostRoute('', DEFAULT)).toBeUndefined();
    expect(offHostRoute('198.19.129.4 via 192.0.2.1 dev eth0 \n', '')).toBeUndefined();
  });
});
