// Inbound Gemini generateContent end to end: the official @google/genai SDK → the gateway → a fake
// OpenAI or Anthropic upstream (translated; gemini and vertex channels are in relay-providers-*.test.ts). Every call moves
// the wallet by exactly the price-table cost; errors come back in Google's shape.
import { GoogleGenAI } from '@google/genai';
import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, type Price } from '../src/pricing/cost.ts';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import type { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let ant: FakeAnthropic;
let oai: FakeOpenAI;
let seq = 0;

const PRICE = { input: '2', output: '8' }; // 1 point per input token, 4 per output token
const PRICE_TABLE: Price = { input: 2_000_000n, output: 8_000_000n, cachedInput: null, cacheWrite: null, perRequest: null, maxOutputTokens: null };
const cost = (promptTokens: number, completionTokens: number) => costOf(PRICE_TABLE, 1_000_000n, { promptTokens, completionTokens, cachedTokens: 0 });

beforeAll(async () => {
  [ant, oai] = await Promise.all([startFakeAnthropic(), startFakeOpenAI()]);
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await ant?.close();
  await oai?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(50);
    }
  }
}

async function setup(kind: 'openai' | 'anthropic', tag: string) {
  const model = `g${process.pid}n${++seq}t${Date.now() % 100000}-${tag}`;
  await addChannel(gw, { name: `ch-${model}`, type: kind, baseUrl: kind === 'anthropic' ? ant.url : oai.url, models: [model], apiKey: `sk-up-${model}` });
  await setPrice(gw, model, PRICE);
  const user = await createUserWithKey(gw, { balance: 1_000_000 });
  return { model, client: user.client, key: user.key, ai: new GoogleGenAI({ apiKey: user.key, httpOptions: { baseUrl: gw.url } }) };
}

async function wallet(client: ApiClient) {
  return (await client.get('/api/wallet')).body;
}

async function expectBilled(client: ApiClient, model: string, before: any, expected: number, row: Record<string, unknown> = {}) {
  const after = await eventually(async () => {
    const w = await wallet(client);
    expect(w.held.quota).toBe(0);
    expect(w.requestCount).toBe(before.requestCount + 1);
    return w;
  });
  expect(after.balance.quota).toBe(before.balance.quota - expected);
  const logs = await client.get(`/api/logs?model=${encodeURIComponent(model)}`);
  expect(logs.body.items).toHaveLength(1);
  expect(logs.body.items[0]).toMatchObject({ cost: { quota: expected }, ...row });
}

describe('Gemini generateContent (translated)', () => {
  it.each(['openai', 'anthropic'] as const)('non-stream against an %s channel: billed from the provider usage', async (kind) => {
    const s = await setup(kind, 'plain');
    const before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'Say tok.', config: { systemInstruction: 'Be brief.', maxOutputTokens: 5 } });
    expect(r.text).toBe('tok '.repeat(5));
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 5 });
    expect(r.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    await expectBilled(s.client, s.model, before, cost(10, 5), { promptTokens: 10, completionTokens: 5, estimated: false, stream: false });
    const sent = (kind === 'openai' ? oai.requests : ant.requests).filter((q) => q.body?.model === s.model);
    expect(sent).toHaveLength(1);
    if (kind === 'openai') expect(sent[0]!.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    else expect(sent[0]!.body.max_tokens).toBe(5);
  });

  it.each(['openai', 'anthropic'] as const)('stream against an %s channel: SSE chunks, billed from the provider usage', async (kind) => {
    const s = await setup(kind, 'stream');
    const before = await wallet(s.client);
    let text = '';
    let usage: any;
    for await (const c of await s.ai.models.generateContentStream({ model: s.model, contents: 'Say tok.', config: { maxOutputTokens: 100 } })) {
      text += c.text ?? '';
      if (c.usageMetadata) usage = c.usageMetadata;
    }
    expect(text).toBe('tok '.repeat(8));
    expect(usage).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 8 });
    await expectBilled(s.client, s.model, before, cost(10, 8), { estimated: false, stream: true });
  });

  it('function calling against an anthropic channel: functionCall parts, billed', async () => {
    const s = await setup('anthropic', 'tools');
    const before = await wallet(s.client);
    const config = { maxOutputTokens: 100, tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } } } }] }] };
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'Weather in Paris?', config });
    expect(r.functionCalls).toEqual([expect.objectContaining({ name: 'get_weather', args: { location: 'Paris' } })]);
    await expectBilled(s.client, s.model, before, cost(10, 12));
  });

  it('a mid-stream cut ends with an in-band error and bills the delivered text', async () => {
    const s = await setup('anthropic', 'cut');
    const before = await wallet(s.client);
    const res = await fetch(`${gw.url}/v1beta/models/${s.model}:streamGenerateContent?alt=sse&key=${s.key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say tok.' }] }], generationConfig: { maxOutputTokens: 100 } }),
    });
    expect(res.status).toBe(200);
    const events = (await res.text()).split(/\r?\n\r?\n/).filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
    expect(events.at(-1)).toMatchObject({ error: { code: 500 } });
    const delivered = countTokens('tok '.repeat(3));
    await expectBilled(s.client, s.model, before, cost(10, delivered), { completionTokens: delivered, status: 502, estimated: true });
  });

  it('GET /v1beta/models lists the key\'s models in Gemini\'s format', async () => {
    const s = await setup('openai', 'listed');
    const names: string[] = [];
    for await (const m of await s.ai.models.list()) names.push(m.name ?? '');
    expect(names).toContain(`models/${s.model}`);
  });

  it("errors in Google's shape: 401 without a key, 404 for an unknown model, 400 for an untranslatable field", async () => {
    const s = await setup('openai', 'errs');
    const post = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const hello = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    expect(await post(`/v1beta/models/${s.model}:generateContent`, {}, hello)).toMatchObject({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } });
    expect(await post('/v1beta/models/no-such-model:generateContent', { 'x-goog-api-key': s.key }, hello)).toMatchObject({ status: 404, body: { error: { code: 404, status: 'NOT_FOUND' } } });
    const before = await wallet(s.client);
    const cached = await post(`/v1beta/models/${s.model}:generateContent`, { 'x-goog-api-key': s.key }, { ...hello, cachedContent: 'cachedContents/abc' });
    expect(cached).toMatchObject({ status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/cachedContent/) } } });
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota);
  });
});
