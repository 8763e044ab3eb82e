// One outbound HTTP request to a user-chosen receiver: the host is resolved and checked once, and the
// socket connects to exactly that address (a DNS answer that changes between check and connect cannot
// redirect it). Host header and TLS name checks still use the URL's host. Redirects are not followed.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { NotifyError } from './errors.ts';
import { resolveReceiver, type Resolver } from './url-guard.ts';

export interface ReceiverOptions {
  /** Let receivers on loopback/private addresses through (admin setting allowPrivateWebhooks). */
  allowPrivate: boolean;
  /** Whole request, connect to last byte. Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  resolve?: Resolver;
}

export interface ReceiverRequest {
  /** Names the setting in errors, e.g. "webhookUrl". */
  field: string;
  url: URL;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface ReceiverAnswer {
  status: number;
  body: string;
}

const MAX_ANSWER_BYTES = 16 * 1024;
const USER_AGENT = 'MoleAPI-Notify/1';

/** Sends the request; resolves for a 2xx answer, else throws a NotifyError (the outbox retries it). */
export async function sendToReceiver(req: ReceiverRequest, opts: ReceiverOptions): Promise<ReceiverAnswer> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const target = await resolveReceiver(req.field, req.url, opts.allowPrivate, opts.resolve);
  // Whatever name the socket asks for, it gets the address that was checked.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as any)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const where = `${req.field} (${req.url.host})`;
  const transport = req.url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));

  return new Promise<ReceiverAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, answer?: ReceiverAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(answer!);
    };
    const request = transport.request(req.url, { method: req.method, headers, lookup: pinned, agent: false });
    const timer = setTimeout(() => {
      finish(new NotifyError(`${where}: no answer within ${timeoutMs} ms`));
      request.destroy();
    }, timeoutMs);
    const onAbort = () => {
      finish(new NotifyError(`${where}: aborted`));
      request.destroy();
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    request.on('error', (err: NodeJS.ErrnoException) => finish(new NotifyError(`${where}: ${err.code ?? err.message}`)));
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish(new NotifyError(`${where}: ${err.code ?? err.message}`)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
        if (status >= 200 && status < 300) finish(null, { status, body });
        else finish(new NotifyError(`${where}: answered HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`));
      });
    });
    request.end(req.body);
  });
}
