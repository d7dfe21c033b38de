/**
 * Bounded load on a stack's published port, from loopback only: concurrent uploads, and POSTs
 * in bursts separated by idle gaps. Each request opens its own connection to nginx (no agent),
 * as separate clients would.
 */
import { request as httpRequest } from 'node:http';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Answer {
  /** The HTTP status, or 0 when no answer came (the error says why). */
  status: number;
  error?: string;
}

/**
 * One request to nginx on loopback with `shop.localhost` as the host; a body is sent with its
 * length, at once or, with `paceMs`, a mebibyte at a time with that pause between (a slow upload).
 */
export function send(
  port: number,
  method: string,
  path: string,
  body?: Buffer,
  timeoutMs = 60_000,
  paceMs = 0,
): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { host: `shop.localhost:${port}` };
    if (body) Object.assign(headers, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method, headers, agent: false, timeout: timeoutMs },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('error', (error) => resolve({ status: 0, error: error.message }));
      },
    );
    // nginx may answer (413, 500) and close before the whole body is sent: the answer is what counts.
    request.on('error', (error) =>
      resolve({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }),
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    if (!body || paceMs === 0) {
      request.end(body);
      return;
    }
    void (async () => {
      for (let offset = 0; offset < body.length && !request.destroyed; offset += 1024 ** 2) {
        request.write(body.subarray(offset, offset + 1024 ** 2));
        await sleep(paceMs);
      }
      request.end();
    })();
  });
}

/**
 * `total` POSTs in bursts of `perBurst` (`concurrency` at a time), each burst after an idle gap
 * taken in turn from `gapsMs`: the connections nginx keeps to the backend sit idle that long
 * before the next burst reuses them. Returns how many answers had each status.
 */
export async function postsAcrossIdleGaps(
  port: number,
  path: string,
  options: { total: number; perBurst: number; concurrency: number; gapsMs: readonly number[] },
): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  const body = Buffer.from('{"probe": "keep-alive"}');
  for (let sent = 0, burst = 0; sent < options.total; burst += 1) {
    if (burst > 0) await sleep(options.gapsMs[(burst - 1) % options.gapsMs.length]!);
    const inBurst = Math.min(options.perBurst, options.total - sent);
    let next = 0;
    const worker = async () => {
      while (next < inBurst) {
        next += 1;
        const { status } = await send(port, 'POST', path, body, 20_000);
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    sent += inBurst;
  }
  return counts;
}
