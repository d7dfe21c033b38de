/**
 * HTTP(S) requests to the stack's published ports on loopback only: verify never sends a request
 * anywhere else, whatever address compose.yaml binds the ports to.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface HttpAnswer {
  /** undefined when the server closed the connection without an answer (nginx 444). */
  status?: number;
  headers: Record<string, string>;
  /** Every occurrence of each header (lower-case name), as sent. */
  headerValues: Record<string, string[]>;
  body: string;
  error?: string;
}

/** Where nginx listens on the host: a loopback port, plain or TLS (verified against `ca`, SNI = serverName). */
export interface Endpoint {
  port: number;
  tls?: { ca: string; servername: string };
}

/** Another method than GET, and headers of its own; no body is sent. */
export interface RequestShape {
  method: string;
  headers: Record<string, string>;
}

export function httpGet(
  endpoint: Endpoint,
  path: string,
  host: string,
  timeoutMs = 15_000,
  shape: RequestShape = { method: 'GET', headers: {} },
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const options = {
      host: '127.0.0.1',
      port: endpoint.port,
      path,
      method: shape.method,
      headers: { ...shape.headers, Host: host, Connection: 'close' },
      timeout: timeoutMs,
    };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers))
          headers[key] = Array.isArray(value) ? value.join(', ') : String(value ?? '');
        const headerValues: Record<string, string[]> = {};
        for (let index = 0; index + 1 < res.rawHeaders.length; index += 2) {
          const name = (res.rawHeaders[index] ?? '').toLowerCase();
          headerValues[name] = [...(headerValues[name] ?? []), res.rawHeaders[index + 1] ?? ''];
        }
        resolve({ status: res.statusCode, headers, headerValues, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => resolve({ headers: {}, headerValues: {}, body: '', error: error.message }));
    };
    const req = endpoint.tls
      ? httpsRequest(
          {
            ...options,
            servername: endpoint.tls.servername,
            ca: [endpoint.tls.ca, ...rootCertificates],
            rejectUnauthorized: true,
          },
          onResponse,
        )
      : httpRequest(options, onResponse);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ headers: {}, headerValues: {}, body: '', error: error.code ?? error.message }),
    );
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Like httpGet, but waits out nginx's rate limit (429) instead of reporting it, and asks twice
 * more when no answer came (a stack just recreated on a loaded machine); never used where "no
 * answer" is the expected result (444).
 */
export async function httpGetPaced(endpoint: Endpoint, path: string, host: string): Promise<HttpAnswer> {
  let silent = 0;
  for (let attempt = 0; ; attempt += 1) {
    const answer = await httpGet(endpoint, path, host);
    if (answer.status === undefined && silent < 2) {
      silent += 1;
      await sleep(1000);
      continue;
    }
    if (answer.status !== 429 || attempt >= 30) return answer;
    await sleep(250);
  }
}
