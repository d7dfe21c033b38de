/** verify's redirect rule: a redirect must keep the host and port the client used. */
import { describe, expect, it } from 'vitest';
import { clientUrl, hostHeader, redirectProblem } from '../../verify/redirects.js';

describe('clientUrl and hostHeader', () => {
  it('name the published port unless it is the scheme default', () => {
    expect(hostHeader(clientUrl('shop.localhost', { port: 18080 }, '/health'))).toBe('shop.localhost:18080');
    expect(hostHeader(clientUrl('shop.localhost', { port: 80 }, '/health'))).toBe('shop.localhost');
    const tls = { ca: '', servername: 'shop.localhost' };
    expect(clientUrl('shop.localhost', { port: 443, tls }, '/x').href).toBe('https://shop.localhost/x');
    expect(clientUrl('shop.localhost', { port: 18443, tls }, '/x').origin).toBe('https://shop.localhost:18443');
  });
});

describe('redirectProblem', () => {
  const from = new URL('http://shop.localhost:18080/health');
  it('accepts a relative Location and an absolute one on the same host and port', () => {
    expect(redirectProblem(from, '/health/', from.origin)).toBeUndefined();
    expect(redirectProblem(from, 'http://shop.localhost:18080/health/', from.origin)).toBeUndefined();
  });
  it("rejects the container's port, a dropped port, another host or scheme, and no Location", () => {
    expect(redirectProblem(from, 'http://shop.localhost:8080/health/', from.origin)).toMatch(
      /redirects to http:\/\/shop\.localhost:8080\/health\/, not to http:\/\/shop\.localhost:18080/,
    );
    expect(redirectProblem(from, 'http://shop.localhost/health/', from.origin)).toMatch(/not to/);
    expect(redirectProblem(from, 'http://evil.example:18080/health/', from.origin)).toMatch(/not to/);
    expect(redirectProblem(from, '//evil.example/health/', from.origin)).toMatch(/not to/);
    expect(redirectProblem(from, 'https://shop.localhost:18080/health/', from.origin)).toMatch(/not to/);
    expect(redirectProblem(from, undefined, from.origin)).toMatch(/without a Location/);
  });
  it('judges the HTTPS redirect against the published HTTPS origin', () => {
    const plain = new URL('http://shop.localhost:18081/api/x');
    expect(
      redirectProblem(plain, 'https://shop.localhost:18181/api/x', 'https://shop.localhost:18181'),
    ).toBeUndefined();
    expect(redirectProblem(plain, 'https://shop.localhost:8443/api/x', 'https://shop.localhost:18181')).toMatch(
      /not to https:\/\/shop\.localhost:18181/,
    );
    expect(
      redirectProblem(new URL('http://shop.localhost/x'), 'https://shop.localhost/x', 'https://shop.localhost'),
    ).toBeUndefined();
  });
});
