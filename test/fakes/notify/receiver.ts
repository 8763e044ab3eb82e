// A real local HTTP server standing in for a webhook receiver, a Bark server or a Gotify server:
// it keeps every request exactly as received (method, path, query, headers, raw body) and answers
// with the status the test scripts (default 200), or with Bark's / Gotify's own answer shapes.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  remoteAddress: string;
}

export interface Receiver {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Statuses for the next requests, in order; after them every request gets 200. */
  failNext(...statuses: number[]): void;
  /** Delay every answer (to test timeouts). */
  setDelay(ms: number): void;
  waitForRequests(n: number, ms?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(kind: 'webhook' | 'bark' | 'gotify', opts: { gotifyToken?: string } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const scripted: number[] = [];
  let delay = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, remoteAddress: req.socket.remoteAddress ?? '' });
      const status = scripted.shift() ?? 200;
      setTimeout(() => {
        if (res.destroyed) return;
        if (status !== 200) return void res.writeHead(status, { 'content-type': 'text/plain' }).end(`scripted ${status}`);
        if (kind === 'gotify') {
          if (url.searchParams.get('token') !== opts.gotifyToken) {
            return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' }));
          }
          const body = JSON.parse(rawBody);
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: requests.length, appid: 1, message: body.message, title: body.title, priority: body.priority, date: new Date().toISOString() }));
        }
        if (kind === 'bark') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 200, message: 'success', timestamp: Math.floor(Date.now() / 1000) }));
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    failNext: (...statuses) => void scripted.push(...statuses),
    setDelay: (ms) => void (delay = ms),
    async waitForRequests(n, ms = 10_000) {
      const end = Date.now() + ms;
      while (requests.length < n) {
        if (Date.now() > end) throw new Error(`expected ${n} requests, got ${requests.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
