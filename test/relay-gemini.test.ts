// Inbound Gemini generateContent end to end: the official @google/genai SDK → the gateway → a fake
// OpenAI or Anthropic upstream (translated; gemini and vertex channels are in relay-providers-*.test.ts). Every call moves
// the wallet by exactly the price-table cost; errors come back in Google's shape.
import { GoogleGenAI } from '@google/genai';
import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { costOf, type Price } from '../src/pricing/cost.ts';
import { expectBilled, wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { fundedOn, useChatFakes, type UpstreamKind } from './helpers/chat-fakes.ts';

const f = useChatFakes();

const PRICE = { input: '2', output: '8' }; // 1 point per input token, 4 per output token
const PRICE_TABLE: Price = { input: 2_000_000n, output: 8_000_000n, cachedInput: null, cacheWrite: null, perRequest: null, maxOutputTokens: null };
const cost = (promptTokens: number, completionTokens: number) => costOf(PRICE_TABLE, 1_000_000n, { promptTokens, completionTokens, cachedTokens: 0 });

async function setup(kind: UpstreamKind, tag: string) {
  const s = await fundedOn(f, kind, tag, PRICE);
  return { ...s, ai: new GoogleGenAI({ apiKey: s.key, httpOptions: { baseUrl: f.gw.url } }) };
}

describe('Gemini generateContent (translated)', () => {
  it.each(['openai', 'anthropic'] as const)('non-stream against an %s channel: billed from the provider usage', async (kind) => {
    const s = await setup(kind, 'plain');
    const before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'Say tok.', config: { systemInstruction: 'Be brief.', maxOutputTokens: 5 } });
    expect(r.text).toBe('tok '.repeat(5));
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 5 });
    expect(r.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    await expectBilled(s, before, cost(10, 5), { promptTokens: 10, completionTokens: 5, estimated: false, stream: false });
    const sent = (kind === 'openai' ? f.oai.requests : f.ant.requests).filter((q) => q.body?.model === s.model);
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
    await expectBilled(s, before, cost(10, 8), { estimated: false, stream: true });
  });

  it('function calling against an anthropic channel: functionCall parts, billed', async () => {
    const s = await setup('anthropic', 'tools');
    const before = await wallet(s.client);
    const config = { maxOutputTokens: 100, tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } } } }] }] };
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'Weather in Paris?', config });
    expect(r.functionCalls).toEqual([expect.objectContaining({ name: 'get_weather', args: { location: 'Paris' } })]);
    await expectBilled(s, before, cost(10, 12));
  });

  it('a mid-stream cut ends with an in-band error and bills the delivered text', async () => {
    const s = await setup('anthropic', 'cut');
    const before = await wallet(s.client);
    const res = await fetch(`${f.gw.url}/v1beta/models/${s.model}:streamGenerateContent?alt=sse&key=${s.key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say tok.' }] }], generationConfig: { maxOutputTokens: 100 } }),
    });
    expect(res.status).toBe(200);
    const events = (await res.text()).split(/\r?\n\r?\n/).filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
    expect(events.at(-1)).toMatchObject({ error: { code: 500 } });
    const delivered = countTokens('tok '.repeat(3));
    await expectBilled(s, before, cost(10, delivered), { completionTokens: delivered, status: 502, estimated: true });
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
      fetch(`${f.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));
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
