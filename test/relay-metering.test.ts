// Metering of token kinds a model prices apart (audio and image tokens) and of rerank answers that
// report Cohere search units or Jina tokens. Real SDKs → the gateway → fake upstreams speaking each
// provider's wire format; every call must move the wallet, the log row and the ledger by exactly the
// expected points.
import { GoogleGenAI } from '@google/genai';
import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, holdFor } from '../src/pricing/cost.ts';
import { startFakeGemini, AUDIO_PROMPT_TOKENS as GEMINI_AUDIO_PROMPT, type FakeGemini } from './fakes/gemini-upstream.ts';
import { IMAGE_TOKEN_USAGE, PNG_1PX, PROMPT_TOKENS, TOKENS_PER_INPUT } from './fakes/openai-surfaces.ts';
import { AUDIO_PROMPT_TOKENS, audioAnswerTokens, startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { expectBilled, funded, TOKEN_PRICE, wallet } from './helpers/billing.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let up: FakeOpenAI;
let gem: FakeGemini;

beforeAll(async () => {
  [up, gem] = await Promise.all([startFakeOpenAI(), startFakeGemini()]);
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
  await gem?.close();
});

// USD per 1M tokens → points per token (500,000 points per USD): input 1, output 4, audio in 20,
// audio out 40, image in 5, image out 20.
const KIND_PRICE = { ...TOKEN_PRICE, audioInput: '40', audioOutput: '80', imageInput: '10', imageOutput: '40' };
const MSG = [{ role: 'user' as const, content: 'Say tok.' }];

describe('audio tokens', () => {
  /** Points of an answer of `completion` tokens from the fake's `audio` model. */
  const audioChat = (completion: number) => {
    const audioOut = audioAnswerTokens(completion);
    return (PROMPT_TOKENS - AUDIO_PROMPT_TOKENS) * 1 + AUDIO_PROMPT_TOKENS * 20 + (completion - audioOut) * 4 + audioOut * 40;
  };

  it.each([false, true])('an OpenAI chat answer with audio tokens is billed at the audio prices (stream=%s)', async (stream) => {
    const s = await funded(gw, up.url, 'audio', { price: KIND_PRICE });
    const before = await wallet(s.client);
    if (stream) {
      let text = '';
      for await (const c of await s.sdk.chat.completions.create({ model: s.model, messages: MSG, max_tokens: 8, stream: true })) text += c.choices[0]?.delta.content ?? '';
      expect(text).toBe('tok '.repeat(8));
    } else {
      const r = await s.sdk.chat.completions.create({ model: s.model, messages: MSG, max_tokens: 8 });
      expect(r.usage?.completion_tokens_details?.audio_tokens).toBe(6);
    }
    // 4 text + 6 audio prompt tokens, 2 text + 6 audio answer tokens: 4 + 120 + 8 + 240.
    expect(audioChat(8)).toBe(372);
    await expectBilled(s, before, 372, { promptTokens: 10, completionTokens: 8, estimated: false, stream });
  });

  it('without audio prices the audio tokens are ordinary input and output tokens', async () => {
    const s = await funded(gw, up.url, 'audio');
    const before = await wallet(s.client);
    await s.sdk.chat.completions.create({ model: s.model, messages: MSG, max_tokens: 8 });
    await expectBilled(s, before, PROMPT_TOKENS + 4 * 8, { estimated: false });
  });

  it.each([false, true])('Gemini usageMetadata AUDIO modality counts are billed at the audio prices (stream=%s)', async (stream) => {
    const s = await funded(gw, gem.url, 'audio', { price: KIND_PRICE, channel: { type: 'gemini', apiKey: 'gk-audio' } });
    const ai = new GoogleGenAI({ apiKey: s.key, httpOptions: { baseUrl: gw.url } });
    const before = await wallet(s.client);
    const config = { maxOutputTokens: 5 };
    if (stream) {
      for await (const c of await ai.models.generateContentStream({ model: s.model, contents: 'Say tok.', config })) void c;
    } else {
      const r = await ai.models.generateContent({ model: s.model, contents: 'Say tok.', config });
      expect(r.usageMetadata?.candidatesTokensDetails).toEqual([{ modality: 'AUDIO', tokenCount: 5 }]);
    }
    // 4 text + 6 audio prompt tokens; the 5 answer tokens are all audio.
    await expectBilled(s, before, (10 - GEMINI_AUDIO_PROMPT) * 1 + GEMINI_AUDIO_PROMPT * 20 + 5 * 40, { estimated: false, stream });
  });

  it('an OpenAI caller translated to a Gemini channel is billed from the same modality counts', async () => {
    const s = await funded(gw, gem.url, 'audio', { price: KIND_PRICE, channel: { type: 'gemini', apiKey: 'gk-audio' } });
    const before = await wallet(s.client);
    await s.sdk.chat.completions.create({ model: s.model, messages: MSG, max_tokens: 3 });
    await expectBilled(s, before, 4 + 6 * 20 + 3 * 40, { estimated: false });
  });
});

describe('image tokens', () => {
  const u = IMAGE_TOKEN_USAGE;
  // 10 text + 40 image prompt tokens, 272 image answer tokens: 10 + 200 + 5440.
  const expected = u.input_tokens_details.text_tokens * 1 + u.input_tokens_details.image_tokens * 5 + u.output_tokens_details.image_tokens * 20;

  it.each([false, true])('an images answer with image tokens is billed at the image prices (stream=%s)', async (stream) => {
    const s = await funded(gw, up.url, 'imgtokens', { price: KIND_PRICE });
    const before = await wallet(s.client);
    if (stream) {
      const events: string[] = [];
      for await (const e of await s.sdk.images.generate({ model: s.model, prompt: 'a mole', stream: true, partial_images: 1 })) events.push(e.type);
      expect(events.at(-1)).toBe('image_generation.completed');
    } else {
      expect((await s.sdk.images.generate({ model: s.model, prompt: 'a mole' })).data?.[0]?.b64_json).toBe(PNG_1PX);
    }
    expect(expected).toBe(5650);
    await expectBilled(s, before, expected, { promptTokens: 50, completionTokens: 272, estimated: false, stream });
  });

  it('a per-request price still wins over any token count', async () => {
    const s = await funded(gw, up.url, 'imgtokens', { price: { perRequest: '0.04', imageOutput: '40' } });
    const before = await wallet(s.client);
    await s.sdk.images.generate({ model: s.model, prompt: 'a mole' });
    await expectBilled(s, before, 20_000, { estimated: false });
  });

  it('the admin API shows the prices; absent ones are null and the public pricing falls back to input/output', async () => {
    const s = await funded(gw, up.url, 'imgtokens', { price: { ...TOKEN_PRICE, imageInput: '10' } });
    const list = await gw.admin.get('/api/admin/prices');
    expect(list.body.items.find((p: any) => p.model === s.model)).toMatchObject({ imageInput: '10', imageOutput: null, audioInput: null, audioOutput: null });
    const pricing = await s.client.get('/api/pricing');
    const item = pricing.body.items.find((p: any) => p.model === s.model);
    expect(item.prices[0]).toMatchObject({ imageInput: '10', imageOutput: '8', audioInput: '2', audioOutput: '8' });
  });
});


describe('rerank', () => {
  const rerank = (key: string, model: string, documents: string[]) =>
    fetch(`${gw.url}/v1/rerank`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, query: 'mole', documents, top_n: 2 }) });
  const docs = (n: number) => Array.from({ length: n }, (_, i) => `document ${i}`);
  const UNIT = 1000; // points of a $0.002 per-request price

  it('Cohere search units bill the per-request price once per unit', async () => {
    const s = await funded(gw, up.url, 'cohere', { price: { perRequest: '0.002' } });
    const before = await wallet(s.client);
    const res = await rerank(s.key, s.model, docs(150));
    expect(res.status).toBe(200);
    expect((await res.json()).meta.billed_units).toEqual({ search_units: 2 });
    await expectBilled(s, before, 2 * UNIT, { estimated: false });
  });

  it('a Cohere answer without billed units is one request', async () => {
    const s = await funded(gw, up.url, 'cohere-nousage', { price: { perRequest: '0.002' } });
    const before = await wallet(s.client);
    expect((await rerank(s.key, s.model, docs(150))).status).toBe(200);
    await expectBilled(s, before, UNIT, { estimated: false });
  });

  it('an absurd search-unit count is refused: one request is billed', async () => {
    const s = await funded(gw, up.url, 'coherebad', { price: { perRequest: '0.002' } });
    const before = await wallet(s.client);
    expect((await rerank(s.key, s.model, docs(3))).status).toBe(200);
    await expectBilled(s, before, UNIT, { estimated: false });
  });

  it('a token-priced model gets no count from search units: the input is estimated, as without usage', async () => {
    const s = await funded(gw, up.url, 'cohere');
    const before = await wallet(s.client);
    expect((await rerank(s.key, s.model, docs(3))).status).toBe(200);
    await expectBilled(s, before, countTokens(`mole\n${docs(3).join('\n')}`), { estimated: true });
  });

  it('Jina tokens (usage.total_tokens) are input tokens; with a per-request price it is one request', async () => {
    const tokenPriced = await funded(gw, up.url, 'jina');
    let before = await wallet(tokenPriced.client);
    expect((await rerank(tokenPriced.key, tokenPriced.model, docs(3))).status).toBe(200);
    await expectBilled(tokenPriced, before, PROMPT_TOKENS + 3 * TOKENS_PER_INPUT, { promptTokens: PROMPT_TOKENS + 3 * TOKENS_PER_INPUT, estimated: false });
    const perCall = await funded(gw, up.url, 'jina', { price: { perRequest: '0.002' } });
    before = await wallet(perCall.client);
    expect((await rerank(perCall.key, perCall.model, docs(150))).status).toBe(200);
    await expectBilled(perCall, before, UNIT, { estimated: false });
  });

  it('the hold covers the search units the documents need (one per 100)', async () => {
    // 250 documents need 3 units: a balance of 2 units is refused before any upstream call.
    const s = await funded(gw, up.url, 'cohere', { price: { perRequest: '0.002' } });
    const w = await wallet(s.client);
    await gw.admin.post(`/api/admin/users/${s.userId}/adjust`, { quota: 2 * UNIT - w.balance.quota, reason: 'test' });
    const res = await rerank(s.key, s.model, docs(250));
    expect(res.status).toBe(429);
    expect(up.requests.some((r) => r.body?.model === s.model)).toBe(false);
  });
});

describe('the cost function', () => {
  const price = { input: 2_000_000n, output: 8_000_000n, cachedInput: 1_000_000n, cacheWrite: null, perRequest: null, maxOutputTokens: null, audioInput: 40_000_000n, audioOutput: 80_000_000n };

  it('cached tokens come first; audio and image parts never bill more tokens than the prompt has', () => {
    // 10 prompt tokens, 4 cached: at most 6 can be audio, whatever the provider claims.
    expect(costOf(price, 1_000_000n, { promptTokens: 10, completionTokens: 0, cachedTokens: 4, audioInputTokens: 9 })).toBe(4 * 0.5 + 6 * 20);
    expect(costOf(price, 1_000_000n, { promptTokens: 0, completionTokens: 3, cachedTokens: 0, audioOutputTokens: 5 })).toBe(3 * 40);
  });

  it('the hold prices every token at the dearest price of its side', () => {
    // 300 bytes → 100 prompt tokens at the audio input price, 10 output tokens at the audio output price.
    expect(holdFor(price, 1_000_000n, 300, 10)).toBe(100 * 20 + 10 * 40);
  });
});
