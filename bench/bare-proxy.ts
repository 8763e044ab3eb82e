// (A) The floor: the least work any Node gateway must do per request. Parse the JSON body, forward
// over a keep-alive undici Pool, read `usage` from the answer, reply. No auth, no money, no logs:
// the gap between this and the real gateway is the gateway's own overhead.
import http from 'node:http';
import { Pool } from 'undici';
import { serveBodies } from './child-ipc.ts';

const upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) throw new Error('UPSTREAM_URL is required');
// connections: null = no cap, so 1000 concurrent slow streams all reach the upstream (no silent queue).
const pool = new Pool(upstreamUrl, { connections: null, keepAliveTimeout: 30_000 });

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}
// Keep the last usage seen so the work of reading it cannot be optimised away.
let lastUsage: Usage | undefined;

function fail(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'proxy_error' } }));
}

// Incremental SSE scan: events end with a blank line; only events mentioning usage are parsed,
// as a real gateway does to bill a stream without buffering it.
function usageScanner(): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let end: number;
    while ((end = pending.indexOf('\n\n')) !== -1) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      if (!event.startsWith('data: ') || !event.includes('"usage"')) continue;
      const data = JSON.parse(event.slice(6)) as { usage?: Usage | null };
      if (data.usage) lastUsage = data.usage;
    }
  };
}

async function forward(res: http.ServerResponse, payload: string | Buffer, stream: boolean, signal: AbortSignal): Promise<void> {
  const upstream = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-upstream' },
    body: payload,
    signal,
  });
  if (!stream || upstream.statusCode !== 200) {
    const bytes = Buffer.from(await upstream.body.arrayBuffer());
    if (upstream.statusCode === 200) lastUsage = (JSON.parse(bytes.toString('utf8')) as { usage?: Usage }).usage;
    res.writeHead(upstream.statusCode, { 'content-type': 'application/json', 'content-length': bytes.length });
    return void res.end(bytes);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const scan = usageScanner();
  for await (const piece of upstream.body as AsyncIterable<Buffer>) {
    scan(piece);
    res.write(piece);
  }
  res.end();
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
  let body: { stream?: boolean; stream_options?: { include_usage?: boolean } };
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(res, 400, 'invalid JSON');
  }
  const stream = body.stream === true;
  // A billing gateway must ask for the usage event on streams; non-streams go through untouched.
  let payload: string | Buffer = raw;
  if (stream) {
    body.stream_options = { ...body.stream_options, include_usage: true };
    payload = JSON.stringify(body);
  }
  // A client that goes away cancels the upstream call, as the gateway does.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  forward(res, payload, stream, abort.signal).catch((err: Error) => fail(res, 502, err.message));
}

serveBodies(handle, () => {
  if (process.env.BENCH_DEBUG) console.error('bare proxy last usage', lastUsage);
});
