// The fake Anthropic and Gemini upstreams speak the real wire formats (the official SDKs talk to
// them unchanged) and fail the ways real providers do: 429 with retry-after, 500, connection reset,
// a stream cut midway, a stall. A cut stream through a translator ends with an in-band error.
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicToGemini, openaiToAnthropic } from '../src/relay/translate/index.ts';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { startFakeGemini, type FakeGemini } from './fakes/gemini-upstream.ts';

let anthropic: FakeAnthropic;
let gemini: FakeGemini;
beforeAll(async () => {
  [anthropic, gemini] = await Promise.all([startFakeAnthropic(), startFakeGemini()]);
});
afterAll(async () => {
  await Promise.all([anthropic.close(), gemini.close()]);
});

const post = (url: string, headers: Record<string, string>, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const hello = { max_tokens: 100, messages: [{ role: 'user' as const, content: 'Hello' }] };

describe('fake Anthropic upstream', () => {
  const client = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: anthropic.url, maxRetries: 0 });

  it('serves the SDK: text, thinking with signature, tool_use streamed as input_json_delta, usage', async () => {
    const msg = await client().messages.create({ model: 'claude-cached', ...hello });
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'tok '.repeat(8) }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 8, cache_read_input_tokens: 4, cache_creation_input_tokens: 2 } });
    const final = await client().messages.stream({ model: 'claude-tools-thinking', ...hello, max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }).finalMessage();
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Thinking about it.', signature: 'sig_fake' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_fake/), name: 'get_weather', input: { location: 'Paris' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(anthropic.requests.at(-1)!.headers.authorization).toBe('Bearer sk-ant-test'); // what SDK 1.x sends
  });

  it('requires a key (x-api-key or Bearer) and anthropic-version, with Anthropic error bodies', async () => {
    const noKey = await post(`${anthropic.url}/v1/messages`, { 'anthropic-version': '2023-06-01' }, { model: 'c', ...hello });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const noVersion = await post(`${anthropic.url}/v1/messages`, { 'x-api-key': 'k' }, { model: 'c', ...hello });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  });

  it('fails on demand: 429 with retry-after, 500, 529, connection reset', async () => {
    const e429 = await client().messages.create({ model: 'claude-error429', ...hello }).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(Anthropic.RateLimitError);
    expect((e429 as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('7');
    expect(await client().messages.create({ model: 'claude-error500', ...hello }).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.InternalServerError);
    const overloaded = await client().messages.create({ model: 'claude-overloaded', ...hello }).catch((e: unknown) => e);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect(await client().messages.create({ model: 'claude-reset', ...hello }).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.APIConnectionError);
  });

  it('a stream cut midway: the translator ends the OpenAI caller’s stream with one error chunk, the text so far delivered', async () => {
    const res = await post(`${anthropic.url}/v1/messages`, { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }, { model: 'claude-cut', ...hello, stream: true });
    const t = openaiToAnthropic.stream({ includeUsage: true });
    let out = '';
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) out += t.push(c);
    } catch {
      // the socket was destroyed: the read fails
    }
    out += t.end();
    const events = out.trim().split('\n\n').map((e) => JSON.parse(e.slice('data: '.length)));
    expect(events.flatMap((e) => e.choices?.[0]?.delta?.content ?? []).join('')).toBe('tok tok tok ');
    expect(events.at(-1)).toEqual({ error: { message: 'the upstream stream ended before the response was complete', type: 'upstream_error', param: null, code: null } });
    expect(t.usage).toEqual({ inputTokens: 10, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it('stalls until the client gives up, and records that it went away', async () => {
    const slow = new Anthropic({ apiKey: 'k', baseURL: anthropic.url, maxRetries: 0, timeout: 300 });
    const stream = slow.messages.stream({ model: 'claude-stall', ...hello });
    const texts: string[] = [];
    stream.on('text', (x) => texts.push(x));
    const ac = setTimeout(() => stream.abort(), 300);
    await expect(stream.finalMessage()).rejects.toThrow();
    clearTimeout(ac);
    expect(texts).toEqual(['tok ']);
    await expect.poll(() => anthropic.requests.at(-1)!.aborted).toBe(true);
  });
});

describe('fake Gemini upstream', () => {
  const ai = () => new GoogleGenAI({ apiKey: 'AIza-test', httpOptions: { baseUrl: gemini.url } });

  it('serves @google/genai: text with usageMetadata, a streamed functionCall with a thought signature', async () => {
    const res = await ai().models.generateContent({ model: 'gemini-2.5-flash-cached', contents: 'Hello' });
    expect(res.text).toBe('tok '.repeat(8));
    expect(res.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 8, totalTokenCount: 18, cachedContentTokenCount: 4 });
    expect(gemini.requests.at(-1)!.headers['x-goog-api-key']).toBe('AIza-test');
    const parts = [];
    for await (const c of await ai().models.generateContentStream({ model: 'gemini-tools', contents: 'Weather?', config: { tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] } })) parts.push(...(c.candidates?.[0]?.content?.parts ?? []));
    expect(parts).toEqual([{ text: 'Let me check.' }, { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'c2lnX2Zha2U=' }]);
    expect(gemini.requests.at(-1)!.query.get('alt')).toBe('sse');
  });

  it('takes the key as ?key=, refuses a call without one (403 PERMISSION_DENIED), streams a JSON array without alt=sse', async () => {
    const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 2 } };
    const ok = await post(`${gemini.url}/v1beta/models/gemini-2.5-flash:generateContent?key=AIza-q`, {}, body);
    expect(ok.status).toBe(200);
    expect((await ok.json()).candidates[0].finishReason).toBe('MAX_TOKENS');
    const denied = await post(`${gemini.url}/v1beta/models/gemini-2.5-flash:generateContent`, {}, body);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    const arr = await post(`${gemini.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=k`, {}, body);
    expect((await arr.json()).map((c: any) => c.candidates[0].content.parts[0].text)).toEqual(['tok ', 'tok ']);
  });

  it('fails on demand: 429 RESOURCE_EXHAUSTED with retry-after and RetryInfo, 500 INTERNAL, connection reset', async () => {
    const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const r429 = await post(`${gemini.url}/v1beta/models/gemini-error429:generateContent`, { 'x-goog-api-key': 'k' }, body);
    expect(r429.status).toBe(429);
    expect(r429.headers.get('retry-after')).toBe('7');
    expect(await r429.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ retryDelay: '7s' }] } });
    const r500 = await post(`${gemini.url}/v1beta/models/gemini-error500:generateContent`, { 'x-goog-api-key': 'k' }, body);
    expect(r500.status).toBe(500);
    expect(await r500.json()).toMatchObject({ error: { code: 500, status: 'INTERNAL' } });
    await expect(post(`${gemini.url}/v1beta/models/gemini-reset:generateContent`, { 'x-goog-api-key': 'k' }, body)).rejects.toThrow();
  });

  it('a stream cut midway: the translator ends the Anthropic caller’s stream with an error event and no message_stop', async () => {
    const res = await post(`${gemini.url}/v1beta/models/gemini-cut:streamGenerateContent?alt=sse`, { 'x-goog-api-key': 'k' }, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    const t = anthropicToGemini.stream();
    let out = '';
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) out += t.push(c);
    } catch {
      // the socket was destroyed
    }
    out += t.end();
    expect(out).toContain('event: message_start');
    expect(out).not.toContain('message_stop');
    expect(out.trimEnd().split('\n\n').at(-1)).toBe('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"the upstream stream ended before the response was complete"}}');
    expect(t.usage?.inputTokens).toBe(10);
  });

  it('stalls after the first chunk until the client leaves', async () => {
    const ac = new AbortController();
    const res = await fetch(`${gemini.url}/v1beta/models/gemini-stall:streamGenerateContent?alt=sse`, { method: 'POST', headers: { 'x-goog-api-key': 'k' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }), signal: ac.signal });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^data: \{"candidates"/);
    const next = reader.read();
    const timer = setTimeout(() => ac.abort(), 200);
    await expect(next).rejects.toThrow();
    clearTimeout(timer);
    await expect.poll(() => gemini.requests.at(-1)!.aborted).toBe(true);
  });
});
