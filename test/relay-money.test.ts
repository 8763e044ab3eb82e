// Money holes a hostile caller or upstream could use (issue 6): the hold must cover `n` / `best_of` and the
// model's output cap, absurd usage numbers are never billed as sent, and an upstream answer cannot make
// the gateway buffer without bound or block its event loop.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { countTokens } from 'gpt-tokenizer';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { settled, wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { readBody, type ApiClient } from './helpers/api.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

const MAX_RESPONSE = 64 * 1024;
const BODY_TIMEOUT = 400;
let gw: TestGateway;
let up: FakeOpenAI;
let seq = 0;
const MSG = [{ role: 'user', content: 'hi' }];

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway({ env: { MAX_RESPONSE_BYTES: String(MAX_RESPONSE), UPSTREAM_BODY_TIMEOUT_MS: String(BODY_TIMEOUT) } });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** A fresh model on its own channel, priced $2 / $8 per 1M tokens (1 point per input token, 4 per output token). */
async function model(tag: string, price: Record<string, unknown> = {}): Promise<string> {
  const m = `money${process.pid}n${++seq}-${tag}`;
  await addChannel(gw, { name: `ch-${m}`, baseUrl: up.url, models: [m], apiKey: 'sk-upstream-money' });
  const res = await gw.admin.put(`/api/admin/prices/${m}`, { input: '2', output: '8', ...price });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return m;
}

async function send(key: string, body: unknown) {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await readBody(res) };
}

async function logsOf(client: ApiClient, m: string, count: number): Promise<any[]> {
  return eventually(async () => {
    const res = await client.get(`/api/logs?model=${encodeURIComponent(m)}&pageSize=200`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(count);
    return res.body.items;
  });
}

/** Log lines (as JSON) the gateway writes at warn level or above while `fn` runs. */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; lines: any[] }> {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const original = gw.gateway.log;
  gw.gateway.log = pino({ level: 'warn' }, sink);
  try {
    return { result: await fn(), lines };
  } finally {
    gw.gateway.log = original;
  }
}

describe('the hold covers every choice and the model output cap', () => {
  it('20 concurrent n:128 requests never take the balance below zero (the fake honours n)', async () => {
    const m = await model('delay400');
    const BALANCE = 20_000;
    const u = await createUserWithKey(gw, { balance: BALANCE });
    const body = JSON.stringify({ model: m, messages: MSG, n: 128, max_tokens: 8 });
    // Each served request costs 10 prompt + 8 × 128 completion tokens = 10 + 4096 points.
    const COST = 10 + 8 * 128 * 4;
    const HOLD = Math.ceil(Buffer.byteLength(body) / 3) + 8 * 128 * 4;
    const results = await Promise.all(Array.from({ length: 20 }, () => send(u.key, body)));
    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(served.length + refused.length).toBe(20);
    expect(served.length).toBe(Math.floor(BALANCE / HOLD)); // 4 (before the fix: all 20, ending at −62,120)
    for (const r of served) expect(r.body.choices).toHaveLength(128);
    for (const r of refused) expect(r.body.error.code).toBe('insufficient_quota');
    const w = await settled(u.client, served.length);
    expect(w.balance.quota).toBe(BALANCE - served.length * COST);
    expect(w.balance.quota).toBeGreaterThanOrEqual(0);
  });

  it('best_of counts like n', async () => {
    const m = await model('bestof');
    const body = JSON.stringify({ model: m, messages: MSG, best_of: 50, max_tokens: 8 });
    const need = Math.ceil(Buffer.byteLength(body) / 3) + 8 * 50 * 4;
    const poor = await createUserWithKey(gw, { balance: need - 1 });
    const refused = await send(poor.key, body);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain(String(need));
    const enough = await createUserWithKey(gw, { balance: need });
    expect((await send(enough.key, body)).status).toBe(200);
  });

  it('n, best_of and max_tokens that are not positive integers → 400, nothing sent upstream', async () => {
    const m = await model('badn');
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const before = up.requests.length;
    for (const [field, value] of [['n', '128'], ['n', 0], ['n', 2.5], ['best_of', -1], ['max_tokens', '100000'], ['max_completion_tokens', 1e300]] as const) {
      const res = await send(u.key, { model: m, messages: MSG, [field]: value });
      expect(res.status, `${field}=${value}`).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', param: field });
    }
    expect(up.requests.length).toBe(before);
    expect((await wallet(u.client)).balance.quota).toBe(1_000_000);
  });

  it('an astronomically large n × max_tokens → 429 insufficient_quota, not a database error', async () => {
    const m = await model('huge-n');
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await send(u.key, { model: m, messages: MSG, n: Number.MAX_SAFE_INTEGER, max_tokens: Number.MAX_SAFE_INTEGER });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('insufficient_quota');
    const w = await wallet(u.client);
    expect(w.held.quota).toBe(0);
    expect(w.balance.quota).toBe(1_000_000);
  });

  it("a price's maxOutputTokens caps the hold per choice, with or without max_tokens", async () => {
    const m = await model('capped', { maxOutputTokens: 50 });
    const listed = await gw.admin.get('/api/admin/prices');
    expect(listed.body.items.find((p: any) => p.model === m)).toMatchObject({ maxOutputTokens: 50 });
    const noMax = JSON.stringify({ model: m, messages: MSG });
    const bigMax = JSON.stringify({ model: m, messages: MSG, max_tokens: 1_000_000 });
    const holdOf = (body: string) => Math.ceil(Buffer.byteLength(body) / 3) + 50 * 4;
    // Enough for a 50-token cap, far too little for the 4096-token default or a million tokens.
    const u = await createUserWithKey(gw, { balance: holdOf(bigMax) });
    expect((await send(u.key, noMax)).status).toBe(200);
    const u2 = await createUserWithKey(gw, { balance: holdOf(bigMax) });
    expect((await send(u2.key, bigMax)).status).toBe(200);
    const poor = await createUserWithKey(gw, { balance: holdOf(bigMax) - 1 });
    const refused = await send(poor.key, bigMax);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain(String(holdOf(bigMax)));
    // A smaller max_tokens is honoured under the cap.
    const small = JSON.stringify({ model: m, messages: MSG, max_completion_tokens: 3 });
    const tight = await createUserWithKey(gw, { balance: Math.ceil(Buffer.byteLength(small) / 3) + 3 * 4 });
    expect((await send(tight.key, small)).status).toBe(200);
  });

  it('max_completion_tokens counts like max_tokens (the larger of the two when both are sent)', async () => {
    const m = await model('mct');
    const body = JSON.stringify({ model: m, messages: MSG, max_completion_tokens: 500, max_tokens: 2 });
    const need = Math.ceil(Buffer.byteLength(body) / 3) + 500 * 4;
    const poor = await createUserWithKey(gw, { balance: need - 1 });
    expect((await send(poor.key, body)).status).toBe(429);
    const ok = await createUserWithKey(gw, { balance: need });
    expect((await send(ok.key, body)).status).toBe(200);
  });

  it('maxOutputTokens is validated and can be cleared', async () => {
    const m = await model('cap2', { maxOutputTokens: 10 });
    for (const bad of [0, -1, 1.5, '10']) {
      const res = await gw.admin.put(`/api/admin/prices/${m}`, { input: '2', output: '8', maxOutputTokens: bad });
      expect(res.status, String(bad)).toBe(400);
    }
    const cleared = await gw.admin.put(`/api/admin/prices/${m}`, { input: '2', output: '8', maxOutputTokens: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.maxOutputTokens).toBeNull();
  });
});

describe('usage an upstream sends is bounded', () => {
  const BAD = [
    ['1e20 prompt tokens', '{"prompt_tokens":1e20,"completion_tokens":5,"total_tokens":1e20}'],
    ['1e400 (Infinity)', '{"prompt_tokens":10,"completion_tokens":1e400,"total_tokens":1e400}'],
    ['negative', '{"prompt_tokens":-100000,"completion_tokens":5,"total_tokens":-99995}'],
    ['fractional', '{"prompt_tokens":10.5,"completion_tokens":5,"total_tokens":15.5}'],
    ['a string', '{"prompt_tokens":"10","completion_tokens":5}'],
    ['over 10M in total', '{"prompt_tokens":6000000,"completion_tokens":6000000,"total_tokens":12000000}'],
    ['cached above prompt', '{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":11}}'],
  ] as const;

  for (const stream of [false, true]) {
    it.each(BAD)(`%s → estimated from the text, flagged, warned with the channel (stream=${stream})`, async (_name, raw) => {
      const m = await model(stream ? 'ustream' : 'ujson');
      const u = await createUserWithKey(gw, { balance: 1_000_000 });
      const { result: res, lines } = await captureWarnings(async () => {
        const r = await send(u.key, { model: m, messages: MSG, max_tokens: 6, stream, fake_usage: raw });
        expect(r.status).toBe(200);
        await settled(u.client, 1);
        return r;
      });
      if (stream) expect(String(res.body).split('"content":"tok "')).toHaveLength(7);
      else expect(res.body.choices[0].message.content).toBe('tok '.repeat(6));
      const [log] = await logsOf(u.client, m, 1);
      expect(log.estimated).toBe(true);
      expect(log.completionTokens).toBe(countTokens('tok '.repeat(6))); // the delivered text, tokenized
      expect(log.promptTokens).toBeGreaterThan(0);
      expect(log.promptTokens).toBeLessThan(100);
      expect(log.cost.quota).toBe(log.promptTokens + log.completionTokens * 4);
      expect((await wallet(u.client)).balance.quota).toBe(1_000_000 - log.cost.quota);
      const warning = lines.find((l) => l.msg.includes('unusable usage'));
      expect(warning, JSON.stringify(lines)).toMatchObject({ channel: `ch-${m}`, requestId: log.requestId });
    });
  }

  it('sane usage is billed as sent (stream and not)', async () => {
    for (const stream of [false, true]) {
      const m = await model('usane');
      const u = await createUserWithKey(gw, { balance: 1_000_000 });
      const raw = '{"prompt_tokens":10000000,"completion_tokens":0,"total_tokens":10000000}';
      expect((await send(u.key, { model: m, messages: MSG, max_tokens: 2, stream, fake_usage: raw })).status).toBe(200);
      const [log] = await logsOf(u.client, m, 1);
      expect(log).toMatchObject({ estimated: false, promptTokens: 10_000_000, completionTokens: 0, cost: { quota: 10_000_000 } });
    }
  });
});

describe('upstream answers the gateway will not buffer or choke on', () => {
  it('a non-streamed answer over MAX_RESPONSE_BYTES → 502, hold released, nothing billed', async () => {
    const m = await model('huge');
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await send(u.key, { model: m, messages: MSG, max_tokens: 5 });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('upstream_error');
    expect(res.body.error.message).toContain('MAX_RESPONSE_BYTES');
    const w = await settled(u.client, 0);
    expect(w.balance.quota).toBe(1_000_000);
    const [log] = await logsOf(u.client, m, 1);
    expect(log).toMatchObject({ status: 502, cost: { quota: 0 } });
  });

  it('a 1 MB stream of one repeated character without usage is billed on a bounded count and never stalls the gateway', async () => {
    const m = await model('huge');
    const fast = await model('fastlane');
    const u = await createUserWithKey(gw, { balance: 100_000_000 });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // Small requests keep flowing while the big stream is relayed and counted.
    let stop = false;
    const latencies: number[] = [];
    const others = (async () => {
      while (!stop) {
        const t = performance.now();
        const r = await send(u.key, { model: fast, messages: MSG, max_tokens: 1 });
        expect(r.status).toBe(200);
        latencies.push(performance.now() - t);
      }
    })();
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: m, messages: MSG, stream: true }),
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const [log] = await logsOf(u.client, m, 1);
    stop = true;
    await others;
    delay.disable();
    expect(log.estimated).toBe(true);
    expect(log.completionTokens).toBeGreaterThan(1024 * 1024 / 16); // at least one token per 16 'a's
    expect(log.completionTokens).toBeLessThanOrEqual(1024 * 1024); // at most one per character
    // Tokenizing 1 MB of one character in one go blocks for seconds; in budgeted slices the loop never waits long.
    expect(delay.max / 1e6).toBeLessThan(750);
    expect(latencies.length).toBeGreaterThan(0);
    expect(Math.max(...latencies)).toBeLessThan(1500);
  });
});

describe('stream endings', () => {
  it('a stream with zero events releases its hold and bills nothing', async () => {
    const m = await model('empty');
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: m, messages: MSG, stream: true, max_tokens: 5 }),
    });
    await res.text();
    const w = await settled(u.client, 0);
    expect(w.balance.quota).toBe(1_000_000);
    const [log] = await logsOf(u.client, m, 1);
    expect(log).toMatchObject({ status: 502, cost: { quota: 0 }, error: 'upstream stream carried no events' });
  });

  it('a stream silent for UPSTREAM_BODY_TIMEOUT_MS ends with an error event; the delivered part is billed', async () => {
    const m = await model('stall');
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const t = performance.now();
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: m, messages: MSG, stream: true }),
    });
    const text = await res.text();
    const took = performance.now() - t;
    expect(took).toBeGreaterThanOrEqual(BODY_TIMEOUT - 50);
    expect(took).toBeLessThan(BODY_TIMEOUT + 3000);
    expect(text).toContain('"content":"tok "');
    expect(text).toContain('"code":"upstream_error"');
    await settled(u.client, 1);
    const [log] = await logsOf(u.client, m, 1);
    expect(log.status).toBe(502);
    expect(log.error).toContain('interrupted');
    expect(log.completionTokens).toBe(2); // "tok "
    expect(log.cost.quota).toBeGreaterThan(0);
  });

  it('a non-streamed answer silent for UPSTREAM_BODY_TIMEOUT_MS → 502, hold released', async () => {
    const m = await model('stall');
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const t = performance.now();
    const res = await send(u.key, { model: m, messages: MSG, max_tokens: 5 });
    const took = performance.now() - t;
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('upstream_error');
    expect(took).toBeGreaterThanOrEqual(BODY_TIMEOUT - 50);
    expect(took).toBeLessThan(BODY_TIMEOUT + 3000);
    const w = await settled(u.client, 0);
    expect(w.balance.quota).toBe(1_000_000);
  });
});
