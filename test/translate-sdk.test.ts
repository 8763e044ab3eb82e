// The official SDKs parse what the translators emit. A tiny translating server (test-only: the
// relay wiring comes later) sits between each SDK and a fake upstream speaking the provider's real
// wire format, or a replay of a recorded provider stream:
//   @anthropic-ai/sdk → Anthropic caller → OpenAI / Gemini channel
//   openai            → OpenAI caller    → Anthropic / Gemini channel
//   @google/genai     → Gemini caller    → OpenAI / Anthropic channel
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translatorFor, translationErrorBody, TranslationError, type Protocol } from '../src/relay/translate/index.ts';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { startFakeGemini, type FakeGemini } from './fakes/gemini-upstream.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

interface Server {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function upstreamCall(provider: Protocol, base: string, model: string, stream: boolean): { url: string; headers: Record<string, string> } {
  if (provider === 'openai') return { url: `${base}/v1/chat/completions`, headers: { authorization: 'Bearer sk-up' } };
  if (provider === 'anthropic') return { url: `${base}/v1/messages`, headers: { 'x-api-key': 'sk-ant-up', 'anthropic-version': '2023-06-01' } };
  return { url: `${base}/v1beta/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, headers: { 'x-goog-api-key': 'AIza-up' } };
}

function inboundOf(path: string): { protocol: Protocol; model?: string; stream?: boolean } | undefined {
  if (path === '/v1/chat/completions') return { protocol: 'openai' };
  if (path === '/v1/messages') return { protocol: 'anthropic' };
  const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(decodeURIComponent(path));
  return m ? { protocol: 'gemini', model: m[1]!, stream: m[2] === 'streamGenerateContent' } : undefined;
}

/** Serves any inbound protocol from `provider` at `upstream`, translating both ways. */
function startTranslatingServer(provider: Protocol, upstream: string): Promise<Server> {
  return listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const inbound = inboundOf(new URL(req.url ?? '/', 'http://x').pathname);
    if (!inbound) {
      res.writeHead(404).end();
      return;
    }
    const translator = translatorFor(inbound.protocol, provider)!;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    let up;
    try {
      up = translator.request(body, { model: inbound.model, stream: inbound.stream }, { defaultMaxTokens: 4096 });
    } catch (err) {
      if (!(err instanceof TranslationError)) throw err;
      const e = translationErrorBody(inbound.protocol, err);
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify(e.body));
      return;
    }
    const call = upstreamCall(provider, upstream, up.model, up.stream);
    const r = await fetch(call.url, { method: 'POST', headers: { 'content-type': 'application/json', ...call.headers }, body: JSON.stringify(up.body) });
    if (r.status !== 200) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(await r.text());
      return;
    }
    if (!up.stream) {
      const out = translator.response(await r.json(), { model: up.model });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
      return;
    }
    const t = translator.stream({ model: up.model, includeUsage: body.stream_options?.include_usage === true });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      const text = t.push(chunk);
      if (text) res.write(text);
    }
    res.end(t.end());
  });
}

/** An upstream that answers every call with a recorded body (JSON or SSE). */
function startReplay(answer: { json?: unknown; sse?: string }): Promise<Server> {
  return listen((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answer.sse) res.writeHead(200, { 'content-type': 'text/event-stream' }).end(answer.sse);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
    });
  });
}

// A recorded gpt-4o stream answering with text and two parallel tool calls.
const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-rec1', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const RECORDED_OPENAI_TOOL_STREAM = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Checking both.' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_W1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_W2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } }] }),
  chunk({}, 'tool_calls'),
  `data: ${JSON.stringify({ id: 'chatcmpl-rec1', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 } } })}\n\n`,
  'data: [DONE]\n\n',
].join('');
const weatherTool = { name: 'get_weather', description: 'Weather now', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

let openaiUp: FakeOpenAI;
let anthropicUp: FakeAnthropic;
let geminiUp: FakeGemini;
const servers: Server[] = [];
const serve = async (s: Promise<Server>) => {
  const started = await s;
  servers.push(started);
  return started.url;
};

beforeAll(async () => {
  [openaiUp, anthropicUp, geminiUp] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini()]);
});
afterAll(async () => {
  await Promise.all([...servers.map((s) => s.close()), openaiUp.close(), anthropicUp.close(), geminiUp.close()]);
});

describe('@anthropic-ai/sdk as the caller', () => {
  it('OpenAI channel: messages.create and messages.stream give text, stop reason and usage', async () => {
    const client = new Anthropic({ apiKey: 'sk-gw', baseURL: await serve(startTranslatingServer('openai', openaiUp.url)), maxRetries: 0 });
    const msg = await client.messages.create({ model: 'gpt-4o-mini-cached', max_tokens: 5, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'tok tok tok tok tok ' }]);
    expect(msg.stop_reason).toBe('max_tokens');
    expect(msg.usage).toMatchObject({ input_tokens: 6, cache_read_input_tokens: 4, output_tokens: 5 });
    const sent = openaiUp.requests.at(-1)!.body;
    expect(sent.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }]);
    expect(sent.max_completion_tokens).toBe(5);

    const stream = client.messages.stream({ model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('tok '.repeat(8));
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 10, output_tokens: 8 });
  });

  it('OpenAI channel, recorded tool-call stream: two tool_use blocks with parsed input and ids, stop tool_use', async () => {
    const up = await serve(startReplay({ sse: RECORDED_OPENAI_TOOL_STREAM }));
    const client = new Anthropic({ apiKey: 'sk-gw', baseURL: await serve(startTranslatingServer('openai', up)), maxRetries: 0 });
    const final = await client.messages.stream({ model: 'gpt-4o', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Paris and Rome?' }] }).finalMessage();
    expect(final.content).toEqual([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool_use', id: 'call_W1', name: 'get_weather', input: { location: 'Paris' } },
      { type: 'tool_use', id: 'call_W2', name: 'get_weather', input: { location: 'Rome' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 16, cache_read_input_tokens: 64, output_tokens: 40 });
  });

  it('Gemini channel: a streamed functionCall arrives as a tool_use the SDK parses; the tool result goes back', async () => {
    const client = new Anthropic({ apiKey: 'sk-gw', baseURL: await serve(startTranslatingServer('gemini', geminiUp.url)), maxRetries: 0 });
    const final = await client.messages.stream({ model: 'gemini-2.5-flash-tools', max_tokens: 300, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'get_weather', input: { location: 'Paris' } });
    expect(geminiUp.requests.at(-1)!.action).toBe('streamGenerateContent');
    expect(geminiUp.requests.at(-1)!.query.get('alt')).toBe('sse');

    const next = await client.messages.create({
      model: 'gemini-2.5-flash', max_tokens: 300, tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather?' }, { role: 'assistant', content: final.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: (use as { id: string }).id, content: '14 C' }] }],
    });
    expect(next.content).toEqual([{ type: 'text', text: 'tok '.repeat(8) }]);
    expect(geminiUp.requests.at(-1)!.body.contents.at(-1)).toEqual({ role: 'user', parts: [{ functionResponse: { id: (use as { id: string }).id, name: 'get_weather', response: { output: '14 C' } } }] });
  });
});

describe('openai SDK as the caller', () => {
  it('Anthropic channel: tool calls (non-streamed and streamed through the SDK’s strict stream helper)', async () => {
    const client = new OpenAI({ apiKey: 'sk-gw', baseURL: `${await serve(startTranslatingServer('anthropic', anthropicUp.url))}/v1`, maxRetries: 0 });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: weatherTool.input_schema } }];
    const res = await client.chat.completions.create({ model: 'claude-tools', messages: [{ role: 'user', content: 'Weather?' }], tools });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.content).toBe('Let me check.');
    expect(res.choices[0]!.message.tool_calls).toEqual([{ id: expect.stringMatching(/^toolu_fake/), type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }]);
    expect(res.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 12 });
    expect(anthropicUp.requests.at(-1)!.headers['anthropic-version']).toBe('2023-06-01');
    expect(anthropicUp.requests.at(-1)!.body.max_tokens).toBe(4096);

    const stream = client.chat.completions.stream({ model: 'claude-tools', messages: [{ role: 'user', content: 'Weather?' }], tools, stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.tool_calls![0]!.function).toEqual({ name: 'get_weather', arguments: '{"location": "Paris"}' });
    expect(final.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 12, total_tokens: 22 });
  });

  it('Anthropic channel: cache usage is reported as cached prompt tokens; an untranslatable field is a 400 naming it', async () => {
    const client = new OpenAI({ apiKey: 'sk-gw', baseURL: `${await serve(startTranslatingServer('anthropic', anthropicUp.url))}/v1`, maxRetries: 0 });
    const chunks = await client.chat.completions.create({ model: 'claude-cached', max_tokens: 3, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let usage;
    let finish;
    for await (const c of chunks) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      usage = c.usage ?? usage;
    }
    expect(text).toBe('tok tok tok ');
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } });

    const err = await client.chat.completions.create({ model: 'claude', n: 3, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('untranslatable_field');
  });

  it('Gemini channel: text stream with usage, and a functionCall as tool_calls', async () => {
    const client = new OpenAI({ apiKey: 'sk-gw', baseURL: `${await serve(startTranslatingServer('gemini', geminiUp.url))}/v1`, maxRetries: 0 });
    const final = await client.chat.completions.stream({ model: 'gemini-2.5-flash-cached', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('tok '.repeat(8));
    expect(final.choices[0]!.finish_reason).toBe('stop');
    expect(final.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 4 } });

    const res = await client.chat.completions.create({ model: 'gemini-tools', messages: [{ role: 'user', content: 'Weather?' }], tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema } }] });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } });
    expect(geminiUp.requests.at(-1)!.body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherTool.input_schema }] }]);
  });
});

describe('@google/genai as the caller', () => {
  it('OpenAI channel: generateContent and generateContentStream with usageMetadata', async () => {
    const ai = new GoogleGenAI({ apiKey: 'AIza-gw', httpOptions: { baseUrl: await serve(startTranslatingServer('openai', openaiUp.url)) } });
    const res = await ai.models.generateContent({ model: 'gpt-4o-mini', contents: 'Hello', config: { systemInstruction: 'Be brief.', maxOutputTokens: 4 } });
    expect(res.text).toBe('tok tok tok tok ');
    expect(res.candidates![0]!.finishReason).toBe('MAX_TOKENS');
    expect(res.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 4, totalTokenCount: 14 });
    expect(openaiUp.requests.at(-1)!.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });

    let text = '';
    let last;
    for await (const c of await ai.models.generateContentStream({ model: 'gpt-4o-mini', contents: 'Hello' })) {
      text += c.text ?? '';
      last = c;
    }
    expect(text).toBe('tok '.repeat(8));
    expect(last!.candidates![0]!.finishReason).toBe('STOP');
    expect(last!.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 8 });
  });

  it('Anthropic channel: functionCalls from a tool_use, streamed and not', async () => {
    const ai = new GoogleGenAI({ apiKey: 'AIza-gw', httpOptions: { baseUrl: await serve(startTranslatingServer('anthropic', anthropicUp.url)) } });
    const config = { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherTool.input_schema }] }] };
    const res = await ai.models.generateContent({ model: 'claude-tools', contents: 'Weather?', config });
    expect(res.functionCalls).toEqual([{ id: expect.stringMatching(/^toolu_fake/), name: 'get_weather', args: { location: 'Paris' } }]);
    const calls = [];
    for await (const c of await ai.models.generateContentStream({ model: 'claude-tools', contents: 'Weather?', config })) calls.push(...(c.functionCalls ?? []));
    expect(calls).toEqual([{ id: expect.stringMatching(/^toolu_fake/), name: 'get_weather', args: { location: 'Paris' } }]);
  });
});
