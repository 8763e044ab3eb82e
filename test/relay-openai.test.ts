// The OpenAI relay end to end: the official `openai` SDK → the gateway → a fake OpenAI upstream.
// Every call must move exactly the price-table cost from the wallet, and the log row and ledger must agree.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokens } from 'gpt-tokenizer';
import OpenAI, { APIError } from 'openai';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import type { ApiClient } from './helpers/api.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

let gw: TestGateway;
let up: FakeOpenAI;
let seq = 0;
const MSG = [{ role: 'user' as const, content: 'Say tok.' }];
const PRICE = { input: '2', output: '8' }; // USD per 1M tokens → 1 point per input token, 4 per output token

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway({ env: { UPSTREAM_TIMEOUT_MS: '2500' } }); // headers timeout; only `slow` non-stream reaches it
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

// Model names carry only digits besides the behaviour tag, so no random suffix can trigger a fake behaviour.
const uniqueModel = (tag: string) => `m${process.pid}n${++seq}t${Date.now() % 100000}-${tag}`;
const usd = (q: number) => {
  const a = Math.abs(q);
  return `${q < 0 ? '-' : ''}${Math.floor(a / 500000)}.${String((a % 500000) * 2).padStart(6, '0')}`;
};

interface Setup {
  model: string;
  upstreamKey: string;
  channelId: number;
  client: ApiClient;
  key: string;
  keyId: number;
  sdk: OpenAI;
}

async function setup(
  tag: string,
  opts: { price?: Parameters<typeof setPrice>[2]; channel?: Partial<Parameters<typeof addChannel>[1]>; key?: Record<string, unknown> } = {},
): Promise<Setup> {
  const model = uniqueModel(tag);
  const upstreamKey = `sk-upstream-${model}`;
  const channelId = await addChannel(gw, { name: `ch-${model}`, baseUrl: up.url, models: [model], apiKey: upstreamKey, ...opts.channel });
  await setPrice(gw, model, opts.price ?? PRICE);
  const user = await createUserWithKey(gw, { balance: 1_000_000, key: opts.key });
  return { model, upstreamKey, channelId, ...user, sdk: sdkFor(user.key) };
}

const sdkFor = (key: string) => new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0, timeout: 20_000 });

/** Waits until no hold is left and the request count moved by `requests`, then returns the wallet. */
async function settledWallet(client: ApiClient, before: any, requests = 1) {
  return eventually(async () => {
    const w = await wallet(client);
    expect(w.held.quota).toBe(0);
    expect(w.requestCount).toBe(before.requestCount + requests);
    return w;
  });
}

async function logRows(client: ApiClient, model: string, count = 1): Promise<any[]> {
  return eventually(async () => {
    const res = await client.get(`/api/logs?model=${encodeURIComponent(model)}&pageSize=200`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(count);
    return res.body.items;
  });
}

async function usageEntries(client: ApiClient): Promise<any[]> {
  const res = await client.get('/api/wallet/ledger?pageSize=200');
  expect(res.status).toBe(200);
  return res.body.items.filter((e: any) => e.kind === 'usage');
}

const upstreamFor = (model: string) => up.requests.filter((r) => r.body?.model === model);

/** Streams or not; returns the concatenated content and the final usage if the gateway sent one. */
async function chat(sdk: OpenAI, model: string, stream: boolean, extra: Record<string, unknown> = {}) {
  if (!stream) {
    const r = await sdk.chat.completions.create({ model, messages: MSG, ...extra } as any);
    return { text: (r as any).choices[0].message.content as string, usage: (r as any).usage, id: (r as any).id as string };
  }
  const s = await sdk.chat.completions.create({ model, messages: MSG, stream: true, ...extra } as any);
  let text = '';
  let usage: any;
  let id = '';
  for await (const c of s as any) {
    id = c.id;
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) usage = c.usage;
  }
  return { text, usage, id };
}

/** Asserts wallet, log row and ledger all show exactly `cost` for the one request just made. */
async function expectBilled(s: Setup, before: any, cost: number, row: Record<string, unknown>) {
  const after = await settledWallet(s.client, before);
  expect(after.balance.quota).toBe(before.balance.quota - cost);
  expect(after.balance.usd).toBe(usd(after.balance.quota));
  expect(after.used.quota).toBe(before.used.quota + cost);
  const [log] = await logRows(s.client, s.model);
  expect(log).toMatchObject({ model: s.model, keyId: s.keyId, cost: { quota: cost, usd: usd(cost) }, ...row });
  const usage = await usageEntries(s.client);
  expect(usage.map((e) => e.amount.quota)).toEqual([-cost]);
  expect(usage[0].balanceAfter.quota).toBe(after.balance.quota);
  return { after, log };
}

describe('OpenAI chat completions relay with billing', () => {
  it.each([false, true])('bills exactly the price-table cost (stream=%s)', async (stream) => {
    const s = await setup(stream ? 'stream' : 'plain');
    const before = await wallet(s.client);
    const res = await chat(s.sdk, s.model, stream, { max_tokens: 5 });
    expect(res.text).toBe('tok '.repeat(5));
    expect(res.id).toMatch(/^chatcmpl-fake/); // provider fields passed through
    // Usage reaches the caller in a JSON answer; in a stream only when asked for (it was not here).
    if (stream) expect(res.usage).toBeUndefined();
    else expect(res.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });
    const cost = 10 * 1 + 5 * 4;
    const { log } = await expectBilled(s, before, cost, {
      promptTokens: 10, completionTokens: 5, cachedTokens: 0, stream, estimated: false, channelId: s.channelId,
    });
    expect(log.durationMs).toBeGreaterThanOrEqual(0);

    const sent = upstreamFor(s.model);
    expect(sent).toHaveLength(1);
    expect(sent[0].headers.authorization).toBe(`Bearer ${s.upstreamKey}`);
    expect(JSON.stringify(sent[0].headers)).not.toContain(s.key);
    if (stream) expect(sent[0].body.stream_options).toMatchObject({ include_usage: true });
    else expect(sent[0].body.stream_options).toBeUndefined();
  });

  it('passes the usage chunk through when the client asks for it', async () => {
    const s = await setup('usagechunk');
    const before = await wallet(s.client);
    const res = await chat(s.sdk, s.model, true, { max_tokens: 3, stream_options: { include_usage: true } });
    expect(res.text).toBe('tok tok tok ');
    expect(res.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 });
    await expectBilled(s, before, 10 + 12, { completionTokens: 3, stream: true, estimated: false });
  });

  it.each([false, true])('prices cached prompt tokens with cachedInput (stream=%s)', async (stream) => {
    const s = await setup('cached', { price: { input: '2', output: '8', cachedInput: '0.5' } });
    const before = await wallet(s.client);
    const res = await chat(s.sdk, s.model, stream, { max_tokens: 8 });
    expect(res.text).toBe('tok '.repeat(8));
    // 6 uncached × 1 + 4 cached × 0.25 + 8 completion × 4 = 39
    await expectBilled(s, before, 39, { promptTokens: 10, cachedTokens: 4, completionTokens: 8, stream, estimated: false });
  });

  it.each([false, true])('estimates and bills a response without usage (stream=%s)', async (stream) => {
    const s = await setup('nousage');
    const before = await wallet(s.client);
    const res = await chat(s.sdk, s.model, stream, { max_tokens: 6 });
    expect(res.text).toBe('tok '.repeat(6));
    const after = await settledWallet(s.client, before);
    const [log] = await logRows(s.client, s.model);
    expect(log.estimated).toBe(true);
    expect(log.stream).toBe(stream);
    expect(log.promptTokens).toBeGreaterThan(0);
    expect(log.completionTokens).toBeGreaterThan(0);
    expect(log.cost.quota).toBe(Math.ceil(log.promptTokens * 1 + log.completionTokens * 4));
    expect(log.cost.quota).toBeGreaterThan(0);
    expect(after.balance.quota).toBe(before.balance.quota - log.cost.quota);
    expect((await usageEntries(s.client)).map((e) => e.amount.quota)).toEqual([-log.cost.quota]);
    if (stream) expect(upstreamFor(s.model)[0].body.stream_options).toMatchObject({ include_usage: true });
    else expect(upstreamFor(s.model)[0].body.stream_options).toBeUndefined();
  });

  it('scales cost by the key group multiplier', async () => {
    const group = `vip${process.pid}n${++seq}`;
    const g = await gw.admin.put(`/api/admin/groups/${group}`, { multiplier: '1.5', selectable: true });
    expect(g.status).toBe(200);
    const s = await setup('group', { channel: { groups: [group] }, key: { group } });
    const before = await wallet(s.client);
    await chat(s.sdk, s.model, false, { max_tokens: 5 });
    await expectBilled(s, before, 45, { group, promptTokens: 10, completionTokens: 5 }); // (10 + 20) × 1.5
  });

  it('charges the fixed per-request price', async () => {
    const s = await setup('perreq', { price: { perRequest: '0.002' } });
    const before = await wallet(s.client);
    await chat(s.sdk, s.model, true, { max_tokens: 4 });
    await expectBilled(s, before, 1000, { stream: true });
  });

  it('maps the public model name to the channel upstream model', async () => {
    const pub = uniqueModel('pub');
    const upstreamModel = `${pub}-upstream`;
    const s = await setup('mapped', { channel: { models: [pub], modelMapping: { [pub]: upstreamModel } }, price: PRICE });
    // setup priced s.model; price and use the public name instead
    await setPrice(gw, pub, PRICE);
    const before = await wallet(s.client);
    const res = await chat(s.sdk, pub, false, { max_tokens: 8 });
    expect(res.text).toBe('tok '.repeat(8));
    expect(upstreamFor(upstreamModel)).toHaveLength(1);
    expect(upstreamFor(pub)).toHaveLength(0);
    await expectBilled({ ...s, model: pub }, before, 42, { model: pub, completionTokens: 8 });
  });

  it('GET /v1/models lists only the models the key may use', async () => {
    const s = await setup('listed');
    const other = uniqueModel('hidden');
    await addChannel(gw, { baseUrl: up.url, models: [other], apiKey: 'sk-up-other' });
    await setPrice(gw, other, PRICE);
    const restricted = await s.client.post('/api/keys', { name: 'restricted', models: [s.model] });
    expect(restricted.status).toBe(201);
    const ids = (await sdkFor(restricted.body.key).models.list()).data.map((m) => m.id);
    expect(ids).toContain(s.model);
    expect(ids).not.toContain(other);
    const all = (await s.sdk.models.list()).data.map((m) => m.id);
    expect(all).toEqual(expect.arrayContaining([s.model, other]));
  });

  it('GET /v1/models/{id} retrieves one model the key may use (OpenAI, Anthropic and Gemini shapes); others are 404 in the caller shape', async () => {
    const s = await setup('retrieved');
    const other = uniqueModel('notmine');
    await addChannel(gw, { baseUrl: up.url, models: [other], apiKey: 'sk-up-other2' });
    await setPrice(gw, other, PRICE);
    const restricted = await s.client.post('/api/keys', { name: 'only-one', models: [s.model] });
    expect(await s.sdk.models.retrieve(s.model)).toMatchObject({ id: s.model, object: 'model' });
    await expect(sdkFor(restricted.body.key).models.retrieve(other)).rejects.toMatchObject({ status: 404, error: { code: 'model_not_found' } });
    await expect(s.sdk.models.retrieve('no-such-model')).rejects.toMatchObject({ status: 404 });
    const anthropicShape = await fetch(`${gw.url}/v1/models/${s.model}`, { headers: { 'x-api-key': s.key, 'anthropic-version': '2023-06-01' } });
    expect(await anthropicShape.json()).toMatchObject({ type: 'model', id: s.model });
    const gemini = await fetch(`${gw.url}/v1beta/models/${s.model}`, { headers: { 'x-goog-api-key': s.key } });
    expect(await gemini.json()).toMatchObject({ name: `models/${s.model}` });
    const missing = await fetch(`${gw.url}/v1beta/models/nope%E0%A4%A`, { headers: { 'x-goog-api-key': s.key } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect((await fetch(`${gw.url}/v1/models/${s.model}`)).status).toBe(401);
  });
});

describe('upstream failures', () => {
  it('a stream cut mid-way ends for the client, the delivered part is billed and the row shows the failure', async () => {
    const s = await setup('cut');
    const before = await wallet(s.client);
    let text = '';
    let finished = false;
    let error: unknown;
    try {
      const st = await s.sdk.chat.completions.create({ model: s.model, messages: MSG, stream: true });
      for await (const c of st) {
        text += c.choices[0]?.delta?.content ?? '';
        if (c.choices[0]?.finish_reason) finished = true;
      }
    } catch (e) {
      error = e;
    }
    expect(text).toBe('tok tok tok ');
    expect(finished).toBe(false);
    // The gateway ends the stream with an error event, which the SDK raises.
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('interrupted the stream');
    const after = await settledWallet(s.client, before);
    const [log] = await logRows(s.client, s.model);
    expect(log.completionTokens).toBe(countTokens('tok tok tok ')); // the delivered text, tokenized
    expect(log.cost.quota).toBe(log.promptTokens + log.completionTokens * 4);
    expect(after.balance.quota).toBe(before.balance.quota - log.cost.quota);
    expect(log.status).toBe(502);
    expect(log.error).toContain('upstream stream interrupted');
    expect(log.estimated).toBe(true);
  });

  it('a non-stream upstream that drops the connection → 502, nothing billed', async () => {
    const s = await setup('cut');
    const before = await wallet(s.client);
    const err = await s.sdk.chat.completions.create({ model: s.model, messages: MSG }).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_error');
    const w = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(w.balance.quota).toBe(before.balance.quota);
  });

  it('a client abandoning a slow stream cancels the upstream and bills what was delivered', async () => {
    const s = await setup('slow');
    const before = await wallet(s.client);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 300);
    let text = '';
    try {
      const st = await s.sdk.chat.completions.create({ model: s.model, messages: MSG, stream: true }, { signal: ac.signal });
      for await (const c of st) text += c.choices[0]?.delta?.content ?? '';
    } catch {
      /* APIUserAbortError */
    }
    clearTimeout(timer);
    expect(text.length).toBeGreaterThan(0);
    await eventually(() => expect(upstreamFor(s.model)[0]?.aborted).toBe(true), { timeoutMs: 2500 });
    const w = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    }, { timeoutMs: 5000 });
    const [log] = await logRows(s.client, s.model);
    expect(log.completionTokens).toBeGreaterThan(0);
    expect(log.cost.quota).toBeGreaterThan(0);
    expect(w.balance.quota).toBe(before.balance.quota - log.cost.quota);
  });

  it('a client abandoning a slow non-stream request cancels the upstream and releases the hold', async () => {
    const s = await setup('slow');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const err = await s.sdk.chat.completions.create({ model: s.model, messages: MSG }, { signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    await eventually(() => expect(upstreamFor(s.model)[0]?.aborted).toBe(true), { timeoutMs: 2500 });
    await eventually(async () => expect((await wallet(s.client)).held.quota).toBe(0), { timeoutMs: 5000 });
  });

  it('an upstream that does not answer within UPSTREAM_TIMEOUT_MS → 504 upstream_timeout, nothing billed', async () => {
    const s = await setup('slow');
    const before = await wallet(s.client);
    const err = await s.sdk.chat.completions.create({ model: s.model, messages: MSG, max_tokens: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(504);
    expect(err.code).toBe('upstream_timeout');
    await eventually(() => expect(upstreamFor(s.model)[0]?.aborted).toBe(true), { timeoutMs: 2500 });
    const w = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(w.balance.quota).toBe(before.balance.quota);
  });

  it.each([false, true])('fails over from a 500ing higher-priority channel to a healthy one (stream=%s)', async (stream) => {
    const model = uniqueModel('failover');
    const bad = await addChannel(gw, {
      name: `bad-${model}`, baseUrl: up.url, models: [model], apiKey: 'sk-up-bad', priority: 10, modelMapping: { [model]: `${model}-error500` },
    });
    const good = await addChannel(gw, { name: `good-${model}`, baseUrl: up.url, models: [model], apiKey: 'sk-up-good', priority: 0 });
    await setPrice(gw, model, PRICE);
    const user = await createUserWithKey(gw, { balance: 1_000_000 });
    const s: Setup = { model, upstreamKey: 'sk-up-good', channelId: good, ...user, sdk: sdkFor(user.key) };
    const before = await wallet(s.client);
    const res = await chat(s.sdk, model, stream, { max_tokens: 5 });
    expect(res.text).toBe('tok '.repeat(5));
    expect(upstreamFor(`${model}-error500`)).toHaveLength(1); // the higher-priority channel was tried first
    expect(upstreamFor(model)[0].headers.authorization).toBe('Bearer sk-up-good');
    const { log } = await expectBilled(s, before, 30, { channelId: good, completionTokens: 5 });
    expect(log.channelId).not.toBe(bad);
  });

  it('all channels failing → 502 in OpenAI error shape, nothing billed, no hold left', async () => {
    const model = uniqueModel('error500');
    await addChannel(gw, { name: `a-${model}`, baseUrl: up.url, models: [model], apiKey: 'sk-up-a', priority: 5 });
    await addChannel(gw, { name: `b-${model}`, baseUrl: up.url, models: [model], apiKey: 'sk-up-b', priority: 1 });
    await setPrice(gw, model, PRICE);
    const { client, key } = await createUserWithKey(gw, { balance: 1_000_000 });
    const before = await wallet(client);
    const err = await sdkFor(key).chat.completions.create({ model, messages: MSG, max_tokens: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_error');
    expect(typeof err.error?.message).toBe('string');
    const tried = upstreamFor(model).map((r) => r.headers.authorization).sort();
    expect(tried).toEqual(['Bearer sk-up-a', 'Bearer sk-up-b']);
    const w = await eventually(async () => {
      const w = await wallet(client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(w.balance.quota).toBe(before.balance.quota);
    expect(w.used.quota).toBe(before.used.quota);
    expect(await usageEntries(client)).toEqual([]);
  });
});
