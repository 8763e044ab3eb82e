// Routing and health: before the first byte each failure kind (429 with retry-after, 500, connection
// reset, first-byte timeout, revoked key) moves on to the next channel, never the same one; after it
// (mid-stream cut, idle stall) the stream ends with an in-band error and the delivered part is billed.
// Channels are auto-disabled after N of M failures, or at once on a 401/403, with the reason shown in
// the channel list (and seen by another instance on PostgreSQL); probes and the test action re-enable.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { settled } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';

const FIRST_BYTE_MS = 400;
const IDLE_MS = 600;
const CONNECT_MS = 300;
let gw: TestGateway;
let oai: FakeOpenAI;
let ant: FakeAnthropic;
let seq = 0;
const MSG = [{ role: 'user', content: 'hi' }];

beforeAll(async () => {
  [oai, ant] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
  gw = await startGateway({ env: { UPSTREAM_TIMEOUT_MS: String(FIRST_BYTE_MS), UPSTREAM_BODY_TIMEOUT_MS: String(IDLE_MS), UPSTREAM_MAX_ATTEMPTS: '3', UPSTREAM_CONNECT_TIMEOUT_MS: String(CONNECT_MS) } });
  const res = await gw.admin.patch('/api/admin/settings', { channelFailureThreshold: 3, channelFailureWindow: 5, channelProbeIntervalSeconds: 1 });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([oai?.close(), ant?.close()]);
});

/** How long this file's waits may take: an auto-disable, a probe's re-enable, another instance hearing of it. */
const WAIT = { timeoutMs: 8000 };

/** Channels in priority order (highest first) for one public model, each with its own upstream model name. */
async function channels(g: TestGateway, specs: { tag: string; baseUrl?: string; apiKey?: string; type?: 'openai' | 'anthropic' }[]) {
  const model = `rt${process.pid}n${++seq}`;
  const ids: number[] = [];
  const names: string[] = [];
  for (const [i, s] of specs.entries()) {
    const name = `${model}-c${i}-${s.tag}`;
    names.push(name);
    const type = s.type ?? 'openai';
    const baseUrl = s.baseUrl ?? (type === 'openai' ? oai.url : ant.url);
    ids.push(await addChannel(g, { name, type, baseUrl, models: [model], priority: 100 - i, modelMapping: { [model]: name }, ...(s.apiKey ? { apiKey: s.apiKey } : {}) }));
  }
  await setPrice(g, model, { input: '2', output: '8' });
  return { model, ids, names };
}
// Relay calls only: the health probes (max_tokens 1, every second here) also reach an auto-disabled
// channel, from either instance, at moments no test controls.
const calls = (name: string) => [...oai.requests, ...ant.requests].filter((r) => r.body?.model === name && r.body?.max_tokens !== 1).length;

async function chat(g: TestGateway, key: string, model: string, stream = false) {
  const res = await fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: MSG, max_tokens: 3, stream }),
  });
  return { status: res.status, text: await res.text() };
}

async function channelView(g: TestGateway, id: number) {
  const res = await g.admin.get(`/api/admin/channels/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** An OpenAI-compatible upstream that answers 500 while down and a one-token completion while up. */
async function switchable() {
  const state = { up: false, calls: 0, traffic: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.calls++;
      if (body.includes('"hi"')) state.traffic++; // a caller's request, not a probe ("ping")
      if (!state.up) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const usage = { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 };
      res.end(JSON.stringify({ id: 'chatcmpl-sw', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'length' }], usage }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { state, url, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/**
 * A port whose TCP handshake never completes: a socket listening with a backlog of 0 that never
 * accepts, its one queue slot taken by our own first connection, so the kernel drops further SYNs.
 * (Node's servers always accept, so the listener is a python3 process.)
 */
async function blackholePort(): Promise<{ url: string; close(): void }> {
  const child = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  const filler = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => filler.once('connect', () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      filler.destroy();
      child.kill();
    },
  };
}

/** A port nothing listens on (connection refused). */
async function closedPort(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('before the first byte: the next channel, never the one that failed', () => {
  it.each([
    ['429 with retry-after', 'error429'],
    ['500', 'error500'],
    ['connection reset', 'reset'],
    ['first-byte timeout', 'delay2000'],
  ])('%s → the next channel answers, billed once; the failed one is called once', async (_kind, tag) => {
    const { model, ids, names } = await channels(gw, [{ tag }, { tag: 'plain' }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await chat(gw, u.key, model);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).choices[0].message.content).toBe('tok tok tok ');
    expect(calls(names[0]!)).toBe(1);
    expect(calls(names[1]!)).toBe(1);
    const w = await settled(u.client, 1, WAIT);
    expect(w.balance.quota).toBe(1_000_000 - (10 + 3 * 4));
    const logs = await u.client.get(`/api/logs?model=${model}`);
    expect(logs.body.items[0]).toMatchObject({ channelId: ids[1], status: 200 });
  });

  it('connect timeout (UPSTREAM_CONNECT_TIMEOUT_MS: the handshake never completes) → the next channel answers, billed once', async () => {
    const hole = await blackholePort();
    try {
      const { model, ids } = await channels(gw, [{ tag: 'hole', baseUrl: hole.url }, { tag: 'plain' }]);
      const u = await createUserWithKey(gw, { balance: 1_000_000 });
      const started = Date.now();
      const res = await chat(gw, u.key, model);
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(FIRST_BYTE_MS + 5_000); // not the default 10 s connect timeout
      const w = await settled(u.client, 1, WAIT);
      expect(w.balance.quota).toBe(1_000_000 - (10 + 3 * 4));
      expect((await u.client.get(`/api/logs?model=${model}`)).body.items[0]).toMatchObject({ channelId: ids[1], status: 200 });
      const listed = (await gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.id === ids[0]);
      expect(listed.recentFailures).toBeGreaterThanOrEqual(1);
    } finally {
      hole.close();
    }
  });

  it("a 429's retry-after puts the channel at the back of the order until it passed", async () => {
    const { model, names } = await channels(gw, [{ tag: 'error429' }, { tag: 'plain' }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    expect((await chat(gw, u.key, model)).status).toBe(200);
    expect((await chat(gw, u.key, model)).status).toBe(200);
    expect(calls(names[0]!)).toBe(1); // cooling (retry-after: 30): the healthy channel went first
    expect(calls(names[1]!)).toBe(2);
  });

  it('every channel failing → 502/504 in the caller’s shape, nothing billed; a network failure is never a 200', async () => {
    const { model } = await channels(gw, [{ tag: 'error500' }, { tag: 'reset' }, { tag: 'x', baseUrl: await closedPort() }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await chat(gw, u.key, model, true);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('could not be reached after 3 attempt(s)') });
    const w = await settled(u.client, 0, WAIT);
    expect(w.balance.quota).toBe(1_000_000);
  });
});

describe('after the first byte: an in-band error, the delivered part billed', () => {
  it.each([
    ['mid-stream cut', 'cut', /interrupted the stream/],
    ['idle stall', 'stall', /interrupted the stream/],
  ])('%s (OpenAI caller) ends with an in-band error chunk; the hold is settled', async (_kind, tag, message) => {
    const { model } = await channels(gw, [{ tag }, { tag: 'plain' }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const started = Date.now();
    const res = await chat(gw, u.key, model, true);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/"content":"tok "/);
    expect(res.text).toMatch(message);
    expect(res.text).not.toContain('[DONE]');
    // undici's body timer ticks about every 500 ms, so the idle timeout fires up to that much early or late.
    if (tag === 'stall') expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 500);
    const w = await settled(u.client, 1, WAIT);
    expect(w.balance.quota).toBeLessThan(1_000_000); // the delivered words are billed
    const log = (await u.client.get(`/api/logs?model=${model}`)).body.items[0];
    expect(log).toMatchObject({ status: 502, estimated: true });
  });

  it.each([
    ['mid-stream cut', 'cut'],
    ['idle stall', 'stall'],
  ])('%s (Anthropic caller) ends with an in-band Anthropic error event', async (_kind, tag) => {
    const { model } = await channels(gw, [{ tag, type: 'anthropic' }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': u.key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 50, stream: true, messages: MSG }),
    });
    const text = await res.text();
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The upstream provider interrupted the stream/);
    const w = await settled(u.client, 1, WAIT);
    expect(w.balance.quota).toBeLessThan(1_000_000);
  });
});

describe('health', () => {
  it('N of M failures auto-disable a channel (reason in the list); a probe re-enables it once it answers', async () => {
    const sw = await switchable();
    try {
      const { model, ids } = await channels(gw, [{ tag: 'sw', baseUrl: sw.url }, { tag: 'plain' }]);
      const u = await createUserWithKey(gw, { balance: 1_000_000 });
      for (let i = 0; i < 3; i++) expect((await chat(gw, u.key, model)).status).toBe(200);
      await eventually(async () => expect((await channelView(gw, ids[0]!)).status).toBe('auto_disabled'), WAIT);
      const view = await channelView(gw, ids[0]!);
      expect(view.statusReason).toMatch(/^3 of the last 3 attempts failed \(last: HTTP 500\)$/);
      expect(Date.parse(view.statusAt)).toBeGreaterThan(Date.now() - 60_000);
      const list = await gw.admin.get('/api/admin/channels');
      expect(list.body.items.find((c: any) => c.id === ids[0])).toMatchObject({ status: 'auto_disabled', enabled: true });
      const before = sw.state.traffic;
      expect((await chat(gw, u.key, model)).status).toBe(200);
      expect(sw.state.traffic).toBe(before); // only probes call it now, never traffic
      sw.state.up = true;
      await eventually(async () => expect((await channelView(gw, ids[0]!)).status).toBe('ok'), WAIT);
      expect((await channelView(gw, ids[0]!)).statusReason).toBeNull();
    } finally {
      await sw.close();
    }
  });

  it('a revoked key (401 from the upstream) disables the channel at once and the next channel serves', async () => {
    const { model, ids } = await channels(gw, [{ tag: 'revoked', apiKey: 'sk-revoked' }, { tag: 'plain' }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    expect((await chat(gw, u.key, model)).status).toBe(200);
    const view = await eventually(async () => {
      const v = await channelView(gw, ids[0]!);
      expect(v.status).toBe('auto_disabled');
      return v;
    }, WAIT);
    expect(view.statusReason).toContain("the upstream refused the channel's key (HTTP 401: Incorrect API key provided");
    // Enabling it again by hand clears the verdict.
    const res = await gw.admin.patch(`/api/admin/channels/${ids[0]}`, { enabled: true });
    expect(res.body).toMatchObject({ status: 'ok', statusReason: null });
  });

  it('a revoked key on the only channel → 502 for the caller, not the upstream 401', async () => {
    const { model } = await channels(gw, [{ tag: 'revoked', apiKey: 'sk-revoked' }]);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await chat(gw, u.key, model);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error.message).toContain('HTTP 401');
  });
});

describe('POST /api/admin/channels/:id/test', () => {
  it('a healthy channel → its status and latency', async () => {
    const { ids } = await channels(gw, [{ tag: 'plain' }]);
    const res = await gw.admin.post(`/api/admin/channels/${ids[0]}/test`, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ latency: expect.any(Number), status: 200 });
  });

  it('an Anthropic channel is tested in its own protocol', async () => {
    const { ids, names } = await channels(gw, [{ tag: 'plain', type: 'anthropic' }]);
    const res = await gw.admin.post(`/api/admin/channels/${ids[0]}/test`, {});
    expect(res.body).toEqual({ latency: expect.any(Number), status: 200 });
    expect(ant.requests.find((r) => r.body?.model === names[0])?.body).toMatchObject({ max_tokens: 1 });
  });

  it("the upstream's refusal → its status and error message", async () => {
    const { ids } = await channels(gw, [{ tag: 'revoked', apiKey: 'sk-revoked' }]);
    const res = await gw.admin.post(`/api/admin/channels/${ids[0]}/test`, {});
    expect(res.body).toMatchObject({ status: 401, error: expect.stringContaining('Incorrect API key provided') });
  });

  it('an unreachable upstream → 502 with the network error (never 200); a silent one → 504', async () => {
    const { ids } = await channels(gw, [{ tag: 'x', baseUrl: await closedPort() }, { tag: 'delay2000' }]);
    const down = await gw.admin.post(`/api/admin/channels/${ids[0]}/test`, {});
    expect(down.body).toMatchObject({ status: 502, error: expect.stringMatching(/could not be reached.*ECONNREFUSED/) });
    const silent = await gw.admin.post(`/api/admin/channels/${ids[1]}/test`, {});
    expect(silent.body).toMatchObject({ status: 504, error: expect.stringContaining('did not answer in time') });
    expect(silent.body.latency).toBeGreaterThanOrEqual(FIRST_BYTE_MS - 50);
  });

  it('an unknown channel → 404', async () => {
    const res = await gw.admin.post('/api/admin/channels/999999/test', {});
    expect(res.status).toBe(404);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('two instances', () => {
  it('an auto-disable on one instance is seen by the other (bus), and it stops routing there', async () => {
    const b = await startGateway({ databaseUrl: gw.databaseUrl, adminPassword: gw.adminPassword });
    try {
      const { model, ids, names } = await channels(gw, [{ tag: 'revoked', apiKey: 'sk-revoked' }, { tag: 'plain' }]);
      await eventually(async () => expect(b.gateway.channels.get(ids[1]!)).toBeDefined(), WAIT);
      const u = await createUserWithKey(gw, { balance: 1_000_000 });
      expect((await chat(gw, u.key, model)).status).toBe(200);
      await eventually(async () => expect(b.gateway.channels.get(ids[0]!)?.status).toBe('auto_disabled'), WAIT);
      expect((await chat(b, u.key, model)).status).toBe(200);
      expect(calls(names[0]!)).toBe(1); // b never tried the disabled channel
    } finally {
      await b.close({ keepDatabase: true });
    }
  });
});
