// Zero-latency fake OpenAI upstream for the benchmark. It runs in its own child process so its
// CPU cost is visible to the OS scheduler like a real (remote) upstream's network stack would be,
// and so it never competes with autocannon's event loop in the orchestrator.
import http from 'node:http';
import { serveBodies } from './child-ipc.ts';

const USAGE = { prompt_tokens: 10, completion_tokens: 8, total_tokens: 18 };
const WORDS = ['Hello', '!', ' I', ' am', ' fine', ',', ' thanks', '.'];

interface ChatRequest {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

function completion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join('') }, finish_reason: 'stop' }],
    usage: USAGE,
  });
}

function chunk(model: string, created: number, choices: unknown[], usage?: unknown): string {
  const body: Record<string, unknown> = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices };
  if (usage) body.usage = usage;
  return `data: ${JSON.stringify(body)}\n\n`;
}

// Each event is a separate write, like a real provider flushing tokens as they are produced,
// so the gateway has to cope with the stream arriving in several pieces.
function writeStream(res: http.ServerResponse, model: string, includeUsage: boolean): void {
  const created = Math.floor(Date.now() / 1000);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  WORDS.forEach((word, i) => {
    const delta = i === 0 ? { role: 'assistant', content: word } : { content: word };
    const finish = i === WORDS.length - 1 ? 'stop' : null;
    res.write(chunk(model, created, [{ index: 0, delta, finish_reason: finish }]));
  });
  if (includeUsage) res.write(chunk(model, created, [], USAGE));
  res.end('data: [DONE]\n\n');
}

// The slow model (`gpt-bench-slow`): 200 ms to the first byte, then 20 chunks over 1 s, like a real
// model generating tokens; used by the slow-stream row (1000 concurrent streams).
const SLOW_FIRST_BYTE_MS = 200;
const SLOW_CHUNKS = 20;
const SLOW_INTERVAL_MS = 1000 / SLOW_CHUNKS;

function writeSlowStream(res: http.ServerResponse, model: string, includeUsage: boolean): void {
  const created = Math.floor(Date.now() / 1000);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  res.on('close', () => clearTimeout(timer));
  const next = () => {
    if (res.destroyed) return;
    if (sent === 0) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const last = sent === SLOW_CHUNKS - 1;
    const delta = sent === 0 ? { role: 'assistant', content: 'tok' } : { content: ' tok' };
    res.write(chunk(model, created, [{ index: 0, delta, finish_reason: last ? 'stop' : null }]));
    sent++;
    if (!last) {
      timer = setTimeout(next, SLOW_INTERVAL_MS);
      return;
    }
    if (includeUsage) res.write(chunk(model, created, [], { prompt_tokens: 10, completion_tokens: SLOW_CHUNKS, total_tokens: 10 + SLOW_CHUNKS }));
    res.end('data: [DONE]\n\n');
  };
  timer = setTimeout(next, SLOW_FIRST_BYTE_MS);
}

// Long answers for the memory row (`gpt-bench-1kb`, `gpt-bench-1mb`): that much text in 4 KB content
// chunks (the 1 KB one in four 256-byte chunks), then the usage.
function writeSizedStream(res: http.ServerResponse, model: string, bytes: number): void {
  const created = Math.floor(Date.now() / 1000);
  const piece = 'a'.repeat(Math.min(4096, bytes / 4));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (let sent = 0; sent < bytes; sent += piece.length) res.write(chunk(model, created, [{ index: 0, delta: { content: piece }, finish_reason: null }]));
  res.write(chunk(model, created, [{ index: 0, delta: {}, finish_reason: 'stop' }]));
  res.write(chunk(model, created, [], { prompt_tokens: 10, completion_tokens: bytes / 8, total_tokens: 10 + bytes / 8 }));
  res.end('data: [DONE]\n\n');
}

// Anthropic Messages streaming (POST /v1/messages): the same eight words as text deltas, in
// Anthropic's event sequence with its usage placement (message_start, then message_delta).
function writeAnthropicStream(res: http.ServerResponse, model: string): void {
  const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const usage = { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 };
  res.write(ev('message_start', { message: { id: 'msg_bench', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage } }));
  res.write(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
  for (const word of WORDS) res.write(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } }));
  res.write(ev('content_block_stop', { index: 0 }));
  res.write(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: WORDS.length } }));
  res.end(ev('message_stop', {}));
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
  if (req.method === 'POST' && req.url?.startsWith('/v1/messages')) {
    const model = (JSON.parse(raw.toString('utf8')) as ChatRequest).model ?? 'unknown';
    return writeAnthropicStream(res, model);
  }
  if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
    return sendError(res, 404, `no route ${req.method} ${req.url}`);
  }
  let body: ChatRequest;
  try {
    body = JSON.parse(raw.toString('utf8')) as ChatRequest;
  } catch {
    return sendError(res, 400, 'invalid JSON body');
  }
  const model = body.model ?? 'unknown';
  if (body.stream === true && model.endsWith('-slow')) return writeSlowStream(res, model, body.stream_options?.include_usage === true);
  const sized = /-(1kb|1mb)$/.exec(model)?.[1];
  if (body.stream === true && sized) return writeSizedStream(res, model, sized === '1kb' ? 1024 : 1024 * 1024);
  if (body.stream === true) return writeStream(res, model, body.stream_options?.include_usage === true);
  const text = completion(model);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

serveBodies(handle);
