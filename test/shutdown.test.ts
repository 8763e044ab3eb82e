// Graceful shutdown of a real gateway process (SIGTERM) with requests in flight: a relay stream and
// a slow management request both complete and are recorded, and new connections are refused.
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.ts';
import { ApiClient } from './helpers/api.ts';
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.ts';
import { freshDatabase } from './helpers/gateway.ts';

let upstream: HeldStream;
let db: Awaited<ReturnType<typeof freshDatabase>>;
let dataDir: string;
let gw: (GatewayProcess & { url: string }) | undefined;
beforeAll(async () => {
  upstream = await startHeldStreamUpstream();
  db = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'moleapi-shutdown-'));
});
afterAll(async () => {
  if (gw) {
    gw.child.kill('SIGKILL');
    await gw.exited;
  }
  await upstream?.close();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface HeldStream {
  url: string;
  /** Lets the stream go on to its end (one more word, finish_reason "stop", usage, [DONE]). */
  finish(): void;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible upstream whose chat-completion stream sends its first word at once and the
 * rest only when the test calls finish(): the stream is in flight for exactly as long as the test
 * needs, whatever the machine's load.
 */
async function startHeldStreamUpstream(): Promise<HeldStream> {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      const event = (body: object) => res.write(`data: ${JSON.stringify({ id: 'chatcmpl-held', object: 'chat.completion.chunk', created: 0, model: 'held', ...body })}\n\n`);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      event({ choices: [{ index: 0, delta: { role: 'assistant', content: 'tok ' }, finish_reason: null }] });
      await finished;
      event({ choices: [{ index: 0, delta: { content: 'tok ' }, finish_reason: null }] });
      event({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      event({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    finish,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Sends the headers of a JSON POST with `Expect: 100-continue` and resolves once the server has
 * taken the request (its 100 Continue); the body is sent later with `send`, so until then the
 * request is in flight on the server.
 */
function startSlowPost(url: string, cookie: string, body: unknown) {
  const text = JSON.stringify(body);
  const req = http.request(url, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), expect: '100-continue' },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      let raw = '';
      res.on('data', (d: Buffer) => (raw += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const accepted = new Promise<void>((resolve) => req.on('continue', () => resolve()));
  req.flushHeaders();
  return { accepted, response, send: () => req.end(text) };
}

describe('graceful shutdown (SIGTERM) with requests in flight', () => {
  // Spawns a process: allow for a loaded machine.
  it('finishes a relay stream and a slow management request, records both, and refuses new connections', { timeout: 120_000 }, async () => {
    gw = await startGatewayProcess({ DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    const admin = new ApiClient(gw.url);
    const login = await admin.login('admin', 'admin-password-1');
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const model = 'held-stream';
    expect((await admin.post('/api/admin/channels', { name: 'ch', type: 'openai', baseUrl: upstream.url, apiKey: 'sk-up', models: [model] })).status).toBe(201);
    expect((await admin.put(`/api/admin/prices/${model}`, { input: '2', output: '8' })).status).toBe(200);
    const user = new ApiClient(gw.url);
    const reg = await user.post('/api/auth/register', { username: `shut${process.pid}`, password: 'password-123' });
    expect(reg.status).toBe(201);
    const userId: number = reg.body.user.id;
    await user.login(`shut${process.pid}`, 'password-123');
    const key: string = (await user.post('/api/keys', { name: 'k' })).body.key;
    const startBalance: number = (await user.get('/api/wallet')).body.balance.quota;

    // In flight: a management request whose body has not arrived yet, and a stream that has begun.
    const adjust = startSlowPost(`${gw.url}/api/admin/users/${userId}/adjust`, cookie, { quota: 7000, reason: 'sent during shutdown' });
    await adjust.accepted;
    const sdk = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const stream = await sdk.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const chunks = stream[Symbol.asyncIterator]();
    const first = await chunks.next();
    expect(first.value?.choices[0]?.delta.content).toBe('tok ');

    gw.child.kill('SIGTERM');
    await gw.waitFor(/shutting down: no new connections/); // logged once the listening socket is closed
    const rest = (async () => {
      let text = first.value!.choices[0]!.delta.content!;
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null | undefined;
      for (let c = await chunks.next(); !c.done; c = await chunks.next()) {
        text += c.value.choices[0]?.delta.content ?? '';
        finish = c.value.choices[0]?.finish_reason ?? finish;
        usage = c.value.usage ?? usage;
      }
      return { text, usage, finish };
    })();
    // New connections are refused from now on (a fresh TCP connection: fetch might reuse an old one).
    const port = Number(new URL(gw.url).port);
    const attempt = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(attempt).toBe('ECONNREFUSED');

    upstream.finish();
    const { text, usage, finish } = await rest;
    // The whole stream, to the upstream's own end.
    expect([text, finish, usage?.completion_tokens]).toEqual(['tok tok ', 'stop', 2]);
    // The management request's body arrives only after the stream is over: it still completes.
    adjust.send();
    const adjusted = await adjust.response;
    expect(adjusted.status).toBe(201);
    expect(adjusted.body.entry.amount.quota).toBe(7000);
    expect(await gw.exited).toBe(0);
    gw = undefined;

    // Nothing lost: the stream's charge and log row and the adjustment are committed.
    const cost = 10 * 1 + 2 * 4; // 10 prompt tokens at $2/M, 2 completion tokens at $8/M
    const check = await openDatabase(db.url);
    try {
      const logs = await check.all<{ cost: number; completion_tokens: number }>('SELECT cost, completion_tokens FROM usage_logs WHERE user_id = ?', [userId]);
      expect(logs.map((l) => [Number(l.cost), Number(l.completion_tokens)])).toEqual([[cost, 2]]);
      const entry = await check.get<{ amount: number }>("SELECT amount FROM ledger_entries WHERE user_id = ? AND kind = 'adjustment'", [userId]);
      expect(Number(entry?.amount)).toBe(7000);
      const u = await check.get<{ balance: number; held: number }>('SELECT balance, (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE user_id = users.id) AS held FROM users WHERE id = ?', [userId]);
      expect([Number(u!.balance), Number(u!.held)]).toEqual([startBalance + 7000 - cost, 0]);
    } finally {
      await check.close();
    }
  });
});
