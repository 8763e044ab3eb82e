// The skeleton every fake upstream shares: a real HTTP server on 127.0.0.1 that reads the whole body,
// records the request (and whether the client left before the answer), and gives the handler small
// helpers (a JSON answer, a socket reset, timers cleared on close). Each fake adds only its wire format.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
  aborted: boolean;
}

export interface Exchange<R extends RecordedRequest> {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  rec: R;
  /** The body did not parse as JSON. */
  parseFailed: boolean;
  /** The raw body text. */
  raw: string;
  json(status: number, text: string, headers?: Record<string, string>): void;
  /** Resets the connection (not recorded as the client leaving). */
  destroy(): void;
  /** setTimeout, cleared when the server closes. */
  later(ms: number, fn: () => void): NodeJS.Timeout;
  /** Runs `fn` after `ms` unless the client leaves first. */
  delayed(ms: number, fn: () => void): void;
}

export interface FakeServer<R extends RecordedRequest> {
  url: string;
  requests: R[];
  close(): Promise<void>;
}

export async function startFakeServer<R extends RecordedRequest>(
  record: (base: RecordedRequest) => R,
  handle: (x: Exchange<R>) => void,
  jsonHeaders: () => Record<string, string> = () => ({ 'content-type': 'application/json' }),
): Promise<FakeServer<R>> {
  const requests: R[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      let parseFailed = false;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        parseFailed = true;
      }
      const url = new URL(req.url ?? '/', 'http://fake');
      const rec = record({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, aborted: false });
      requests.push(rec);
      let selfClosed = false;
      res.on('close', () => {
        if (!res.writableFinished && !selfClosed) rec.aborted = true;
      });
      handle({
        req,
        res,
        rec,
        parseFailed,
        raw,
        json(status, text, headers = {}) {
          res.writeHead(status, { ...jsonHeaders(), ...headers });
          res.end(text);
        },
        destroy() {
          selfClosed = true;
          req.socket.destroy();
        },
        later,
        delayed(ms, fn) {
          const t = later(ms, fn);
          res.on('close', () => {
            clearTimeout(t);
            timers.delete(t);
          });
        },
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
