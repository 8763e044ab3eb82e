// The gemini (AI Studio), azure (Azure OpenAI) and vertex (Vertex AI) channel types end to end: the
// official SDKs → the gateway → fake upstreams speaking each provider's real wire format (paths,
// auth headers, usage placement, error bodies). Same protocol: the caller's bytes pass through;
// otherwise translated. Every call moves the wallet by exactly the price-table cost.
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { countTokens } from 'gpt-tokenizer';
import { generateKeyPairSync } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, type Price } from '../src/pricing/cost.ts';
import { startFakeAzure, type FakeAzure } from './fakes/azure-upstream.ts';
import { startFakeGemini, type FakeGemini } from './fakes/gemini-upstream.ts';
import { TOKENS_PER_INPUT } from './fakes/openai-surfaces.ts';
import type { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let gem: FakeGemini;
let vtx: FakeGemini;
let az: FakeAzure;
let seq = 0;

const PROJECT = 'mole-test-project';
const LOCATION = 'us-central1';
const CLIENT_EMAIL = 'relay@mole-test-project.iam.gserviceaccount.com';
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const serviceAccount = (tokenUri: string, pem = privatePem) =>
  JSON.stringify({ type: 'service_account', project_id: PROJECT, private_key_id: 'k1', private_key: pem, client_email: CLIENT_EMAIL, token_uri: tokenUri }, null, 2);

const PRICE = { input: '2', output: '8', cachedInput: '1' }; // 1 point per input token, 4 per output, 0.5 per cached
const PRICE_TABLE: Price = { input: 2_000_000n, output: 8_000_000n, cachedInput: 1_000_000n, cacheWrite: null, perRequest: null, maxOutputTokens: null };
const cost = (promptTokens: number, completionTokens: number, cachedTokens = 0) => costOf(PRICE_TABLE, 1_000_000n, { promptTokens, completionTokens, cachedTokens });

beforeAll(async () => {
  [gem, az] = await Promise.all([startFakeGemini(), startFakeAzure()]);
  vtx = await startFakeGemini({ vertex: { project: PROJECT, location: LOCATION, clientEmail: CLIENT_EMAIL, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() } });
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await gem?.close();
  await vtx?.close();
  await az?.close();
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

type Kind = 'gemini' | 'azure' | 'vertex';
const channelFor = (kind: Kind, model: string) =>
  kind === 'gemini'
    ? { type: 'gemini', baseUrl: gem.url, apiKey: `gk-${model}` }
    : kind === 'azure'
      ? { type: 'azure', baseUrl: az.url, apiKey: `ak-${model}`, config: { apiVersion: '2024-10-21' } }
      : { type: 'vertex', baseUrl: vtx.url, apiKey: serviceAccount(`${vtx.url}/token`), config: { project: PROJECT, location: LOCATION } };

async function setup(kind: Kind, tag: string, channel: Record<string, unknown> = {}) {
  const model = `p${process.pid}n${++seq}-${tag}`;
  await addChannel(gw, { name: `ch-${model}`, models: [model], ...channelFor(kind, model), ...channel } as never);
  await setPrice(gw, model, PRICE);
  const user = await createUserWithKey(gw, { balance: 1_000_000 });
  return {
    model,
    client: user.client,
    ai: new GoogleGenAI({ apiKey: user.key, httpOptions: { baseUrl: gw.url } }),
    openai: new OpenAI({ apiKey: user.key, baseURL: `${gw.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: user.key, baseURL: gw.url, maxRetries: 0 }),
  };
}

const wallet = async (client: ApiClient) => (await client.get('/api/wallet')).body;

async function expectBilled(client: ApiClient, model: string, before: any, expected: number, row: Record<string, unknown> = {}) {
  const after = await eventually(async () => {
    const w = await wallet(client);
    expect(w.held.quota).toBe(0);
    expect(w.requestCount).toBe(before.requestCount + 1);
    return w;
  });
  expect(after.balance.quota).toBe(before.balance.quota - expected);
  const logs = await client.get(`/api/logs?model=${encodeURIComponent(model)}`);
  expect(logs.body.items[0]).toMatchObject({ cost: { quota: expected }, ...row });
}

const sentTo = (fake: FakeGemini, model: string) => fake.requests.filter((r) => r.model === model);

describe('gemini channels (AI Studio)', () => {
  it('@google/genai generateContent passes through: x-goog-api-key, usageMetadata with cached and thinking tokens billed', async () => {
    const s = await setup('gemini', 'cached-thinking');
    const before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'Say tok.', config: { maxOutputTokens: 5, thinkingConfig: { includeThoughts: true } } });
    expect(r.text).toBe('tok '.repeat(5));
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 5, cachedContentTokenCount: 4, thoughtsTokenCount: 3 });
    // candidates 5 + thoughts 3 are output; 4 of the 10 prompt tokens were cached.
    await expectBilled(s.client, s.model, before, cost(10, 8, 4), { promptTokens: 10, completionTokens: 8, estimated: false, stream: false });
    const [sent] = sentTo(gem, s.model);
    expect(sent).toMatchObject({ path: `/v1beta/models/${s.model}:generateContent`, action: 'generateContent' });
    expect(sent!.headers['x-goog-api-key']).toBe(`gk-${s.model}`);
    expect(sent!.body.generationConfig).toEqual({ maxOutputTokens: 5, thinkingConfig: { includeThoughts: true } });
  });

  it('@google/genai streaming passes through (:streamGenerateContent?alt=sse), billed from the last usageMetadata', async () => {
    const s = await setup('gemini', 'plain');
    const before = await wallet(s.client);
    let text = '';
    for await (const chunk of await s.ai.models.generateContentStream({ model: s.model, contents: 'Say tok.', config: { maxOutputTokens: 6 } })) text += chunk.text ?? '';
    expect(text).toBe('tok '.repeat(6));
    await expectBilled(s.client, s.model, before, cost(10, 6), { completionTokens: 6, estimated: false, stream: true });
    const [sent] = sentTo(gem, s.model);
    expect(sent!.action).toBe('streamGenerateContent');
    expect(sent!.query.get('alt')).toBe('sse');
  });

  it('@anthropic-ai/sdk against a gemini channel (translated), non-stream and stream', async () => {
    const s = await setup('gemini', 'plain');
    let before = await wallet(s.client);
    const m = await s.anthropic.messages.create({ model: s.model, max_tokens: 5, system: 'Be brief.', messages: [{ role: 'user', content: 'Say tok.' }] });
    expect(m.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(5) }]);
    expect(m.stop_reason).toBe('max_tokens');
    expect(m.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    await expectBilled(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const sent = sentTo(gem, s.model)[0]!;
    expect(sent.body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] });

    before = await wallet(s.client);
    const final = await s.anthropic.messages.stream({ model: s.model, max_tokens: 7, messages: [{ role: 'user', content: 'Say tok.' }] }).finalMessage();
    expect(final.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(7) }]);
    expect(final.usage).toMatchObject({ output_tokens: 7 });
    await expectBilled(s.client, s.model, before, cost(10, 7), { estimated: false, stream: true });
  });

  it('openai SDK streaming against a gemini channel (translated), usage chunk and exact cost', async () => {
    const s = await setup('gemini', 'plain');
    const before = await wallet(s.client);
    const stream = await s.openai.chat.completions.create({ model: s.model, max_tokens: 4, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let usage;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('tok '.repeat(4));
    expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4 });
    await expectBilled(s.client, s.model, before, cost(10, 4), { estimated: false, stream: true });
  });

  it('the model rename mapping goes into the URL; a 429 with retry-after fails over to the next gemini channel', async () => {
    const s = await setup('gemini', 'renamed', { modelMapping: {}, priority: 0 });
    const upstream = `${s.model}-upstream`;
    await addChannel(gw, { name: `ch-429-${s.model}`, type: 'gemini', baseUrl: gem.url, apiKey: 'gk-429', models: [s.model], priority: 10, modelMapping: { [s.model]: `${s.model}-error429` } } as never);
    await addChannel(gw, { name: `ch-map-${s.model}`, type: 'gemini', baseUrl: gem.url, apiKey: 'gk-map', models: [s.model], priority: 5, modelMapping: { [s.model]: upstream } } as never);
    const before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 3 } });
    expect(r.text).toBe('tok '.repeat(3));
    await expectBilled(s.client, s.model, before, cost(10, 3));
    expect(sentTo(gem, `${s.model}-error429`)).toHaveLength(1);
    expect(sentTo(gem, upstream)).toHaveLength(1);
  });

  it('key rotation: keys one per line are used in turn; a key the upstream rejects (403) is skipped', async () => {
    const s = await setup('gemini', 'rotate', { apiKey: 'revoked-k1\ngk-two\n\ngk-three\n' });
    for (let i = 0; i < 4; i++) {
      const r = await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 2 } });
      expect(r.text).toBe('tok tok ');
    }
    const used = sentTo(gem, s.model).map((r) => r.headers['x-goog-api-key']);
    expect(used.filter((k) => k === 'revoked-k1')).toHaveLength(1);
    expect(used.filter((k) => k !== 'revoked-k1')).toEqual(expect.arrayContaining(['gk-two', 'gk-three']));
    expect(used).toHaveLength(5); // 4 answers + the one rejected try
    const logs = await s.client.get(`/api/logs?model=${s.model}`);
    expect(logs.body.items).toHaveLength(4);
  });

  it('an upstream 400 is passed through in Google error shape and nothing is billed', async () => {
    const s = await setup('gemini', 'error400');
    const before = await wallet(s.client);
    await expect(s.ai.models.generateContent({ model: s.model, contents: 'hi' })).rejects.toMatchObject({ status: 400 });
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota);
  });

  it('a passthrough stream cut by the upstream ends with one Gemini error event; the delivered part is billed', async () => {
    const s = await setup('gemini', 'cut');
    const before = await wallet(s.client);
    const key = (s.ai as any).apiClient.clientOptions.apiKey as string;
    const res = await fetch(`${gw.url}/v1beta/models/${s.model}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    const text = await res.text();
    const events = text.split('\r\n\r\n').filter(Boolean);
    expect(events).toHaveLength(4);
    expect(JSON.parse(events[3]!.slice('data: '.length))).toMatchObject({ error: { code: 502, status: 'UNAVAILABLE' } });
    // usageMetadata said 3 candidates tokens so far; never fewer than our count of what was delivered.
    const delivered = Math.max(3, countTokens('tok tok tok '));
    await expectBilled(s.client, s.model, before, cost(10, delivered), { stream: true, completionTokens: delivered });
  });

  it(':countTokens is a free local estimate', async () => {
    const s = await setup('gemini', 'count');
    const before = await wallet(s.client);
    const r = await s.ai.models.countTokens({ model: s.model, contents: 'hello there world' });
    expect(r.totalTokens).toBe(countTokens('hello there world\n') + 4 + 3);
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    expect(sentTo(gem, s.model)).toHaveLength(0);
  });

  it(':embedContent and :batchEmbedContents go to the gemini channel, billed on the counted input', async () => {
    const s = await setup('gemini', 'embed');
    let before = await wallet(s.client);
    const one = await s.ai.models.embedContent({ model: s.model, contents: 'hello world' });
    expect(one.embeddings?.[0]?.values).toHaveLength(4);
    const tokens = (...texts: string[]) => countTokens(texts.map((t) => `${t}\n`).join('')) + 4 * texts.length + 3;
    await expectBilled(s.client, s.model, before, cost(tokens('hello world'), 0), { estimated: true, completionTokens: 0 });

    before = await wallet(s.client);
    const res = await fetch(`${gw.url}/v1beta/models/${s.model}:batchEmbedContents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': (s.ai as any).apiClient.clientOptions.apiKey },
      body: JSON.stringify({ requests: [{ model: `models/${s.model}`, content: { parts: [{ text: 'alpha beta' }] } }, { model: `models/${s.model}`, content: { parts: [{ text: 'gamma' }] } }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).embeddings).toHaveLength(2);
    await expectBilled(s.client, s.model, before, cost(tokens('alpha beta', 'gamma'), 0), { estimated: true });
    expect(sentTo(gem, s.model).map((r) => r.action)).toEqual(expect.arrayContaining(['batchEmbedContents']));
  });
});

describe('azure channels (Azure OpenAI)', () => {
  it('openai SDK chat, non-stream and stream: deployment path, api-version and api-key; billed exactly', async () => {
    const s = await setup('azure', 'az', { config: { apiVersion: '2025-04-01-preview', deployments: {} } });
    const deployment = `${s.model}-dep`;
    await gw.admin.patch(`/api/admin/channels/${(await gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.name === `ch-${s.model}`).id}`, { config: { deployments: { [s.model]: deployment } } });
    let before = await wallet(s.client);
    const r = await s.openai.chat.completions.create({ model: s.model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('tok '.repeat(5));
    await expectBilled(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const sent = az.requests.filter((q) => q.deployment === deployment);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(`/openai/deployments/${deployment}/chat/completions`);
    expect(sent[0]!.query.get('api-version')).toBe('2025-04-01-preview');
    expect(sent[0]!.headers['api-key']).toBe(`ak-${s.model}`);
    expect(sent[0]!.headers.authorization).toBeUndefined();

    before = await wallet(s.client);
    let text = '';
    for await (const c of await s.openai.chat.completions.create({ model: s.model, max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'hi' }] })) {
      text += c.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('tok '.repeat(3));
    await expectBilled(s.client, s.model, before, cost(10, 3), { estimated: false, stream: true });
  });

  it('@anthropic-ai/sdk against an azure channel (translated); a model without a mapping is its own deployment', async () => {
    const s = await setup('azure', 'az-cached');
    const before = await wallet(s.client);
    const m = await s.anthropic.messages.create({ model: s.model, max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
    expect(m.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(4) }]);
    expect(m.usage).toMatchObject({ input_tokens: 6, cache_read_input_tokens: 4, output_tokens: 4 });
    await expectBilled(s.client, s.model, before, cost(10, 4, 4));
    expect(az.requests.filter((q) => q.deployment === s.model)).toHaveLength(1);
  });

  it('key rotation over azure keys: a revoked key (401) is skipped, the others alternate', async () => {
    const s = await setup('azure', 'az-rot', { apiKey: 'revoked-a\nak-b\nak-c' });
    for (let i = 0; i < 4; i++) await s.openai.chat.completions.create({ model: s.model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] });
    const keys = az.requests.filter((q) => q.deployment === s.model).map((q) => q.headers['api-key']);
    expect(keys.filter((k) => k === 'revoked-a')).toHaveLength(1);
    expect(keys.filter((k) => k === 'ak-b').length).toBeGreaterThanOrEqual(1);
    expect(keys.filter((k) => k === 'ak-c').length).toBeGreaterThanOrEqual(1);
    expect(keys).toHaveLength(5);
  });

  it('an azure channel whose every key is rejected is auto-disabled with the reason; the caller gets a 502 in its shape, nothing billed', async () => {
    const s = await setup('azure', 'az-dead', { apiKey: 'revoked-x' });
    const before = await wallet(s.client);
    await expect(s.openai.chat.completions.create({ model: s.model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 502,
      error: { code: 'upstream_error' },
    });
    await eventually(async () => expect((await wallet(s.client)).held.quota).toBe(0));
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    const ch = (await gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.name === `ch-${s.model}`);
    expect(ch).toMatchObject({ status: 'auto_disabled', statusReason: expect.stringContaining('401') });
  });
});

describe('azure channels serve the other OpenAI surfaces under the deployment', () => {
  it('embeddings and legacy completions go to /openai/deployments/{deployment}/…?api-version, billed on the usage', async () => {
    const s = await setup('azure', 'az-emb', { config: { apiVersion: '2024-10-21', deployments: {} } });
    const deployment = `${s.model}-emb`;
    const id = (await gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.name === `ch-${s.model}`).id;
    await gw.admin.patch(`/api/admin/channels/${id}`, { config: { deployments: { [s.model]: deployment } } });
    let before = await wallet(s.client);
    const e = await s.openai.embeddings.create({ model: s.model, input: ['one', 'two'] });
    expect(e.data).toHaveLength(2);
    await expectBilled(s.client, s.model, before, cost(2 * TOKENS_PER_INPUT, 0), { promptTokens: 2 * TOKENS_PER_INPUT, estimated: false });
    const sent = az.requests.filter((q) => q.deployment === deployment);
    expect(sent.at(-1)!.path).toBe(`/openai/deployments/${deployment}/embeddings`);
    expect(sent.at(-1)!.query.get('api-version')).toBe('2024-10-21');
    expect(sent.at(-1)!.headers['api-key']).toBe(`ak-${s.model}`);

    before = await wallet(s.client);
    const c = await s.openai.completions.create({ model: s.model, prompt: 'Say tok', max_tokens: 4 });
    expect(c.choices[0]!.text.length).toBeGreaterThan(0);
    expect(az.requests.filter((q) => q.deployment === deployment).at(-1)!.path).toBe(`/openai/deployments/${deployment}/completions`);
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.requestCount).toBe(before.requestCount + 1);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota - cost(c.usage!.prompt_tokens, c.usage!.completion_tokens));
  });
});

describe('the Responses API over gemini and azure channels (translated to their chat protocol)', () => {
  it('gemini: openai SDK responses.create, non-stream and stream; the model in the URL, billed exactly', async () => {
    const s = await setup('gemini', 'plain');
    let before = await wallet(s.client);
    const r = await s.openai.responses.create({ model: s.model, input: 'Say tok.', instructions: 'Be brief.', max_output_tokens: 5 });
    expect(r.output_text).toBe('tok '.repeat(5));
    await expectBilled(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const [sent] = sentTo(gem, s.model);
    expect(sent).toMatchObject({ path: `/v1beta/models/${s.model}:generateContent`, action: 'generateContent' });
    expect(sent!.body.model).toBeUndefined();
    expect(sent!.body.generationConfig).toMatchObject({ maxOutputTokens: 5 });

    before = await wallet(s.client);
    let text = '';
    for await (const e of await s.openai.responses.create({ model: s.model, input: 'Say tok.', max_output_tokens: 6, stream: true })) {
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    expect(text).toBe('tok '.repeat(6));
    await expectBilled(s.client, s.model, before, cost(10, 6), { estimated: false, stream: true });
    expect(sentTo(gem, s.model).at(-1)!.action).toBe('streamGenerateContent');
  });

  it('azure: openai SDK responses.create goes to the deployment as chat completions, non-stream and stream, billed exactly', async () => {
    const s = await setup('azure', 'az-resp');
    let before = await wallet(s.client);
    const r = await s.openai.responses.create({ model: s.model, input: 'hi', max_output_tokens: 5 });
    expect(r.output_text).toBe('tok '.repeat(5));
    await expectBilled(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const sent = az.requests.filter((q) => q.deployment === s.model);
    expect(sent.at(-1)!.path).toBe(`/openai/deployments/${s.model}/chat/completions`);

    before = await wallet(s.client);
    let text = '';
    for await (const e of await s.openai.responses.create({ model: s.model, input: 'hi', max_output_tokens: 3, stream: true })) {
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    expect(text).toBe('tok '.repeat(3));
    await expectBilled(s.client, s.model, before, cost(10, 3), { estimated: false, stream: true });
  });
});

describe('vertex channels (Vertex AI)', () => {
  it('@google/genai generateContent and streaming: the service account gets one OAuth token (JWT bearer grant), reused', async () => {
    const s = await setup('vertex', 'vx');
    const tokensBefore = vtx.tokenRequests;
    let before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 5 } });
    expect(r.text).toBe('tok '.repeat(5));
    await expectBilled(s.client, s.model, before, cost(10, 5), { estimated: false });
    const sent = sentTo(vtx, s.model);
    expect(sent[0]!.path).toBe(`/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${s.model}:generateContent`);
    expect(sent[0]!.headers.authorization).toMatch(/^Bearer ya29\.fake/);

    before = await wallet(s.client);
    let text = '';
    for await (const c of await s.ai.models.generateContentStream({ model: s.model, contents: 'hi', config: { maxOutputTokens: 2 } })) text += c.text ?? '';
    expect(text).toBe('tok tok ');
    await expectBilled(s.client, s.model, before, cost(10, 2), { stream: true });
    expect(vtx.tokenRequests - tokensBefore).toBe(1);
  });

  it('@anthropic-ai/sdk streaming against a vertex channel (translated)', async () => {
    const s = await setup('vertex', 'vx-cached');
    const before = await wallet(s.client);
    const final = await s.anthropic.messages.stream({ model: s.model, max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(final.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(3) }]);
    await expectBilled(s.client, s.model, before, cost(10, 3, 4), { stream: true });
  });

  it('a token endpoint that refuses the service account → 502 in the caller shape, nothing billed', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const s = await setup('vertex', 'vx-badkey', { apiKey: serviceAccount(`${vtx.url}/token`, other) });
    const before = await wallet(s.client);
    await expect(s.ai.models.generateContent({ model: s.model, contents: 'hi' })).rejects.toMatchObject({ status: 502 });
    await eventually(async () => expect((await wallet(s.client)).held.quota).toBe(0));
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    expect(sentTo(vtx, s.model)).toHaveLength(0);
  });
});

describe('channel config in the admin API', () => {
  const base = { name: 'cfg', models: ['cfg-model'], baseUrl: 'https://example.com' };

  it('refuses fields a type does not take, missing required ones and unusable keys, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: 'azure', apiKey: 'k', config: { project: 'my-project-1' } }, 'config.project'],
      [{ type: 'openai', apiKey: 'k', config: { apiVersion: '2024-10-21' } }, 'config.apiVersion'],
      [{ type: 'vertex', apiKey: serviceAccount('https://oauth2.googleapis.com/token'), config: { location: 'us-central1' } }, 'config.project'],
      [{ type: 'vertex', apiKey: 'not json', config: { project: PROJECT, location: LOCATION } }, 'apiKey'],
      [{ type: 'azure', apiKey: 'k', config: { apiVersion: 'latest' } }, 'config.apiVersion'],
      [{ type: 'gemini', apiKey: 'k', config: { headers: { Host: 'evil' } } }, 'config.headers.Host'],
      [{ type: 'gemini', apiKey: ' \n ' }, 'apiKey'],
    ];
    for (const [body, field] of cases) {
      const r = await gw.admin.post('/api/admin/channels', { ...base, ...body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i: any) => i.path.join('.'))).toContain(field);
    }
  });

  it('extra headers reach the upstream, are write-only in the admin API, sealed at rest and kept by a patch', async () => {
    const s = await setup('gemini', 'hdr', { config: { headers: { 'x-goog-user-project': 'billing-proj', 'x-extra-secret': 's3cret' } } });
    const id = (await gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.name === `ch-${s.model}`).id;
    const view = (await gw.admin.get(`/api/admin/channels/${id}`)).body;
    expect(view.config.headers).toEqual({ 'x-goog-user-project': '…', 'x-extra-secret': '…' });
    expect(view.apiKey).not.toContain(`gk-${s.model}`);
    const stored = await gw.gateway.db.get<{ config: string }>('SELECT config FROM channels WHERE id = ?', [id]);
    expect(stored!.config).toMatch(/^enc:v1:/);
    expect((await gw.admin.patch(`/api/admin/channels/${id}`, { weight: 3 })).status).toBe(200);
    await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 1 } });
    const sent = sentTo(gem, s.model).at(-1)!;
    expect(sent.headers['x-extra-secret']).toBe('s3cret');
    expect(sent.headers['x-goog-user-project']).toBe('billing-proj');
  });
});
