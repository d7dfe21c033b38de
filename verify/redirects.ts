/**
 * Where a redirect sends the client, judged as a browser would: the Location resolved against the
 * URL the client asked for. A redirect that names another host or port (nginx's own listening
 * port inside its container, say) sends users to a port nothing publishes.
 */
import { httpGet, type Endpoint, type HttpAnswer } from './http.js';

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** The URL a client on loopback uses for `serverName` on this endpoint, port included unless default. */
export function clientUrl(serverName: string, endpoint: Endpoint, path: string): URL {
  const scheme = endpoint.tls ? 'https:' : 'http:';
  const port = DEFAULT_PORTS[scheme] === endpoint.port ? '' : `:${endpoint.port}`;
  return new URL(`${scheme}//${serverName}${port}${path}`);
}

/** The Host header a browser sends for that URL. */
export function hostHeader(url: URL): string {
  return url.host;
}

/** Why a redirect from `from` to `location` leaves `allowedOrigin`, or undefined when it stays. */
export function redirectProblem(from: URL, location: string | undefined, allowedOrigin: string): string | undefined {
  if (!location) return `${from.pathname}: redirect without a Location`;
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return `${from.pathname}: Location ${location} is not a URL`;
  }
  return target.origin === allowedOrigin
    ? undefined
    : `${from.pathname} redirects to ${target.href}, not to ${allowedOrigin}`;
}

export interface FollowedRedirects {
  hops: string[];
  answer: HttpAnswer;
  problem?: string;
}

/** GET `url`, following up to 5 redirects that must all stay on the URL's own origin. */
export async function followRedirects(endpoint: Endpoint, url: URL): Promise<FollowedRedirects> {
  const hops: string[] = [];
  let current = url;
  for (;;) {
    const answer = await httpGet(endpoint, `${current.pathname}${current.search}`, hostHeader(current));
    if (answer.status === undefined || answer.status < 300 || answer.status > 399) return { hops, answer };
    const location = answer.headers['location'];
    hops.push(`${answer.status} ${location ?? '(no Location)'}`);
    const problem = redirectProblem(current, location, url.origin);
    if (problem) return { hops, answer, problem };
    if (hops.length >= 5) return { hops, answer, problem: `more than 5 redirects from ${url.pathname}` };
    current = new URL(location!, current);
  }
}
