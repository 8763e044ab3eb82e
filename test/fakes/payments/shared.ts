// Pieces every fake payment provider shares: a local HTTP server, body reading, and the notify sender
// that behaves like a real provider (signed GET or POST, exact acknowledgement expected, retries).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The "switches" for a test payment: each makes the fake send a notify a real attacker or bug could. */
export type NotifyTwist =
  | 'none'
  | 'duplicate' // the same signed notify twice (providers re-send freely)
  | 'late' // sent after `lateMs`
  | 'tampered-amount' // amount changed and correctly signed (provider says the user paid a different sum)
  | 'wrong-merchant' // another merchant's order notify, correctly signed with our key
  | 'bad-signature'; // amount changed in transit without a valid signature

export interface PayOptions {
  twist?: NotifyTwist;
  lateMs?: number;
  /** Override the amount reported by 'tampered-amount' (decimal string or minor units per provider). */
  tamperedAmount?: string;
}

export interface NotifyAttempt {
  status: number;
  body: string;
  error?: string;
}

export interface Delivery {
  acknowledged: boolean;
  attempts: NotifyAttempt[];
}

export interface OutgoingNotify {
  url: string;
  method: 'GET' | 'POST';
  /** Form fields (GET: query string; POST: form body) or a raw body with headers. */
  fields?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}

export interface RetryPolicy {
  /** Delay before each retry; its length + 1 is the number of attempts. */
  delaysMs: number[];
  /** True when the receiver's answer is the provider's acknowledgement. */
  isAck(status: number, body: string): boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends one notify like the provider does, re-sending until it is acknowledged or attempts run out. */
export async function deliverNotify(n: OutgoingNotify, policy: RetryPolicy): Promise<Delivery> {
  const attempts: NotifyAttempt[] = [];
  for (let i = 0; i <= policy.delaysMs.length; i++) {
    if (i > 0) await sleep(policy.delaysMs[i - 1]!);
    let url = n.url;
    let body: string | undefined = n.body;
    const headers: Record<string, string> = { 'user-agent': 'fake-payment-provider', ...n.headers };
    if (n.fields) {
      const encoded = new URLSearchParams(n.fields).toString();
      if (n.method === 'GET') url += (url.includes('?') ? '&' : '?') + encoded;
      else {
        body = encoded;
        headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
      }
    }
    try {
      const res = await fetch(url, { method: n.method, headers, body: n.method === 'GET' ? undefined : body, signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      attempts.push({ status: res.status, body: text });
      if (policy.isAck(res.status, text)) return { acknowledged: true, attempts };
    } catch (err) {
      attempts.push({ status: 0, body: '', error: (err as Error).message });
    }
  }
  return { acknowledged: false, attempts };
}

/** Exact-text acknowledgement, as EPay, Lantu and Alipay check it. */
export const exactAck = (ack: string) => (status: number, body: string) => status === 200 && body.trim() === ack;

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface ParsedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Query fields overlaid by form body fields. */
  fields: Record<string, string>;
}

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
}

export const json = (value: unknown, status = 200): Reply => ({ status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' });
export const text = (value: string, status = 200): Reply => ({ status, body: value, contentType: 'text/plain; charset=utf-8' });
export const html = (value: string, status = 200): Reply => ({ status, body: value, contentType: 'text/html; charset=utf-8' });

export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1. Every fake also answers `POST /_test/pay {orderNo, ...PayOptions}`,
 * the test-only "user pays" action, with the deliveries it made.
 */
export async function startFakeServer(
  handle: (req: ParsedRequest) => Promise<Reply> | Reply,
  pay: (orderNo: string, opts: PayOptions) => Promise<Delivery[]>,
): Promise<FakeServer> {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = await readBody(req);
      const fields: Record<string, string> = {};
      for (const [k, v] of url.searchParams) fields[k] = v;
      if (req.method === 'POST' && (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body)) fields[k] = v;
      }
      let reply: Reply;
      if (req.method === 'POST' && url.pathname === '/_test/pay') {
        const { orderNo, ...opts } = JSON.parse(body) as { orderNo: string } & PayOptions;
        reply = json({ deliveries: await pay(orderNo, opts) });
      } else {
        reply = await handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, headers: req.headers, fields });
      }
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8' });
      res.end(reply.body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake error: ${(err as Error).message}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let seq = 0;
export function tradeNo(prefix: string): string {
  seq += 1;
  return `${prefix}${Date.now()}${String(seq).padStart(4, '0')}`;
}

/** Sends the notify once (or twice for 'duplicate', after a wait for 'late'). */
export async function sendWithTwist(opts: PayOptions, send: () => Promise<Delivery>): Promise<Delivery[]> {
  if (opts.twist === 'late') await sleep(opts.lateMs ?? 300);
  const first = await send();
  if (opts.twist !== 'duplicate') return [first];
  return [first, await send()];
}
