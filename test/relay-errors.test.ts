// Every refusal of the relay: status, OpenAI-shaped error code, nothing sent upstream, no money moved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { readBody, type ApiClient } from './helpers/api.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { wallet } from './helpers/billing.ts';

const MAX_BODY = 1024;
let gw: TestGateway;
let up: FakeOpenAI;
let model: string; // served by a channel and priced
let otherModel: string; // also served and priced
let seq = 0;
const MSG = [{ role: 'user', content: 'hi' }];

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway({ env: { MAX_BODY_BYTES: String(MAX_BODY) } });
  model = `errm${process.pid}a`;
  otherModel = `errm${process.pid}b`;
  await addChannel(gw, { baseUrl: up.url, models: [model, otherModel], apiKey: 'sk-upstream-errors' });
  await setPrice(gw, model, { input: '2', output: '8' });
  await setPrice(gw, otherModel, { input: '2', output: '8' });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function user(opts: { balance?: number; key?: Record<string, unknown> } = {}) {
  return createUserWithKey(gw, { username: `erru${process.pid}n${++seq}`, balance: opts.balance ?? 1_000_000, key: opts.key });
}

async function send(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(gw.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await readBody(res), headers: res.headers };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Sends the request and asserts the refusal: status, OpenAI error shape and code, nothing upstream, no money moved. */
async function expectRefused(
  u: { client: ApiClient },
  req: { path?: string; body: unknown; headers: Record<string, string> },
  status: number,
  code: string,
) {
  const before = await wallet(u.client);
  const upstreamBefore = up.requests.length;
  const res = await send(req.path ?? '/v1/chat/completions', req.body, req.headers);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type') ?? '').toContain('application/json');
  expect(typeof res.body?.error?.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(res.body.error.code).toBe(code);
  await sleep(50);
  expect(up.requests.length).toBe(upstreamBefore);
  const after = await wallet(u.client);
  expect(after.balance.quota).toBe(before.balance.quota);
  expect(after.held.quota).toBe(0);
  expect(after.requestCount).toBe(before.requestCount);
  return res;
}

/** Sends a request that must succeed and be billed. */
async function expectServed(u: { client: ApiClient }, headers: Record<string, string>, m = model) {
  const before = await wallet(u.client);
  const upstreamBefore = up.requests.length;
  const res = await send('/v1/chat/completions', { model: m, messages: MSG, max_tokens: 2 }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.choices[0].message.content).toBe('tok tok ');
  expect(up.requests.length).toBe(upstreamBefore + 1);
  for (let i = 0; i < 100; i++) {
    const w = await wallet(u.client);
    if (w.held.quota === 0 && w.balance.quota === before.balance.quota - 18) return;
    await sleep(50);
  }
  expect((await wallet(u.client)).balance.quota).toBe(before.balance.quota - 18); // 10 × 1 + 2 × 4
}

describe('bad input', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const u = await user();
    await expectRefused(u, { body: '{"model": "x", "messages": [', headers: bearer(u.key) }, 400, 'invalid_json');
  });

  it('missing model → 400 missing_model', async () => {
    const u = await user();
    await expectRefused(u, { body: { messages: MSG }, headers: bearer(u.key) }, 400, 'missing_model');
  });

  it('missing messages → 400 missing_messages', async () => {
    const u = await user();
    await expectRefused(u, { body: { model }, headers: bearer(u.key) }, 400, 'missing_messages');
  });

  it('unknown model → 404 model_not_found', async () => {
    const u = await user();
    const res = await expectRefused(u, { body: { model: 'no-such-model-anywhere', messages: MSG }, headers: bearer(u.key) }, 404, 'model_not_found');
    expect(res.body.error.message).toContain('no-such-model-anywhere');
  });

  it('a body over MAX_BODY_BYTES → 413 request_too_large', async () => {
    const u = await user();
    const body = { model, messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY * 2) }] };
    await expectRefused(u, { body, headers: bearer(u.key) }, 413, 'request_too_large');
    // just under the limit still works
    const small = JSON.stringify({ model, messages: [{ role: 'user', content: '' }], max_tokens: 2 });
    const fits = JSON.stringify({ model, messages: [{ role: 'user', content: 'y'.repeat(MAX_BODY - small.length - 10) }], max_tokens: 2 });
    expect(Buffer.byteLength(fits)).toBeLessThan(MAX_BODY);
    const res = await send('/v1/chat/completions', fits, bearer(u.key));
    expect(res.status).toBe(200);
  });
});

describe('keys', () => {
  it('missing key → 401 invalid_api_key', async () => {
    const u = await user();
    await expectRefused(u, { body: { model, messages: MSG }, headers: {} }, 401, 'invalid_api_key');
  });

  it('wrong key → 401 invalid_api_key', async () => {
    const u = await user();
    const wrong = 'sk-' + 'a'.repeat(48);
    await expectRefused(u, { body: { model, messages: MSG }, headers: bearer(wrong) }, 401, 'invalid_api_key');
    // a real key with one character changed is also wrong
    const tweaked = u.key.slice(0, -1) + (u.key.endsWith('a') ? 'b' : 'a');
    await expectRefused(u, { body: { model, messages: MSG }, headers: bearer(tweaked) }, 401, 'invalid_api_key');
  });

  it('disabled key → 401 invalid_api_key; re-enabled works again', async () => {
    const u = await user();
    await expectServed(u, bearer(u.key));
    const off = await u.client.patch(`/api/keys/${u.keyId}`, { enabled: false });
    expect(off.status).toBe(200);
    await expectRefused(u, { body: { model, messages: MSG }, headers: bearer(u.key) }, 401, 'invalid_api_key');
    const on = await u.client.patch(`/api/keys/${u.keyId}`, { enabled: true });
    expect(on.status).toBe(200);
    await expectServed(u, bearer(u.key));
  });

  it('expired key → 401 invalid_api_key', async () => {
    const expiresAt = Date.now() + 1500;
    const u = await user({ key: { expiresAt } });
    await expectServed(u, bearer(u.key));
    await sleep(expiresAt - Date.now() + 200);
    await expectRefused(u, { body: { model, messages: MSG }, headers: bearer(u.key) }, 401, 'invalid_api_key');
  });

  it('x-api-key header authenticates too', async () => {
    const u = await user();
    await expectServed(u, { 'x-api-key': u.key });
    await expectRefused(u, { body: { model, messages: MSG }, headers: { 'x-api-key': 'sk-' + 'z'.repeat(48) } }, 401, 'invalid_api_key');
  });

  it("model outside the key's allow-list → 403 model_not_allowed", async () => {
    const u = await user({ key: { models: [otherModel] } });
    await expectRefused(u, { body: { model, messages: MSG }, headers: bearer(u.key) }, 403, 'model_not_allowed');
    await expectServed(u, bearer(u.key), otherModel);
  });

  it('caller IP outside allowIps → 403 ip_not_allowed', async () => {
    const u = await user({ key: { allowIps: ['10.0.0.0/8'] } });
    await expectRefused(u, { body: { model, messages: MSG }, headers: bearer(u.key) }, 403, 'ip_not_allowed');
  });

  it('caller IP inside allowIps is served', async () => {
    const u = await user({ key: { allowIps: ['127.0.0.1/32'] } });
    await expectServed(u, bearer(u.key));
  });

  it('a spoofed X-Forwarded-For does not get around allowIps', async () => {
    const u = await user({ key: { allowIps: ['10.0.0.0/8'] } });
    await expectRefused(u, { body: { model, messages: MSG }, headers: { ...bearer(u.key), 'x-forwarded-for': '10.1.2.3' } }, 403, 'ip_not_allowed');
  });
});

describe('money', () => {
  it('balance too low for the hold → 429 insufficient_quota before any upstream call', async () => {
    const u = await user({ balance: 100 });
    // hold ≥ 500 output tokens × 4 points = 2000 > 100
    await expectRefused(u, { body: { model, messages: MSG, max_tokens: 500 }, headers: bearer(u.key) }, 429, 'insufficient_quota');
  });

  it('key quotaLimit too low → 429 insufficient_quota', async () => {
    const u = await user({ key: { quotaLimit: 100 } });
    await expectRefused(u, { body: { model, messages: MSG, max_tokens: 500 }, headers: bearer(u.key) }, 429, 'insufficient_quota');
    // the same request fits once max_tokens is small enough for the key limit
    await expectServed(u, bearer(u.key));
  });
});

describe('routes', () => {
  it('an unimplemented endpoint → 501 with an error body (Gemini shape under /v1beta), nothing held', async () => {
    // Every OpenAI route of the API surface is implemented; a Gemini method the gateway lacks is not.
    const u = await user();
    const before = await wallet(u.client);
    const res = await send('/v1beta/models/gpt-x:streamBatchGenerate', { requests: [] }, { 'x-goog-api-key': u.key });
    expect(res.status).toBe(501);
    expect(res.body.error).toMatchObject({ code: 501, status: 'UNIMPLEMENTED', message: expect.stringContaining('not implemented') });
    const after = await wallet(u.client);
    expect(after.balance.quota).toBe(before.balance.quota);
    expect(after.held.quota).toBe(0);
  });
});
