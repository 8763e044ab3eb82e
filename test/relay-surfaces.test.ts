// The OpenAI surfaces besides chat and responses, end to end: the official `openai` SDK (raw HTTP for
// /v1/rerank, which the SDK lacks) → the gateway → the fake OpenAI upstream. Each call must move the
// wallet by exactly the expected amount: the provider's usage, the per-request price where one is
// set, or a tokenizer count flagged estimated when the provider sends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokens } from 'gpt-tokenizer';
import { APIError, toFile } from 'openai';
import { IMAGE_USAGE, MP3_BYTES, PNG_1PX, PROMPT_TOKENS, SPEECH_USAGE, TOKENS_PER_INPUT, TRANSCRIPT, TRANSCRIPT_USAGE } from './fakes/openai-surfaces.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { expectBilled, funded, uniqueModel, wallet } from './helpers/billing.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let up: FakeOpenAI;

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** Points at 1 per input token and 4 per output token (TOKEN_PRICE). */
const tokens = (input: number, output = 0) => input + 4 * output;
const perRequest = (usdPrice: number) => Math.round(usdPrice * 500_000);
const audioFile = () => toFile(Buffer.from('RIFF....WAVEfake audio'), 'speech.wav', { type: 'audio/wav' });

describe('legacy completions', () => {
  it.each([false, true])('bills the usage the provider reports (stream=%s)', async (stream) => {
    const s = await funded(gw, up.url, 'cmpl');
    const before = await wallet(s.client);
    let text = '';
    if (stream) {
      for await (const c of await s.sdk.completions.create({ model: s.model, prompt: 'Say tok', max_tokens: 3, stream: true })) text += c.choices[0]?.text ?? '';
    } else {
      text = (await s.sdk.completions.create({ model: s.model, prompt: 'Say tok', max_tokens: 3 })).choices[0]!.text;
    }
    expect(text).toBe('tok tok tok ');
    await expectBilled(s, before, tokens(PROMPT_TOKENS, 3), { promptTokens: PROMPT_TOKENS, completionTokens: 3, estimated: false, stream });
    // Usage is asked for upstream on the caller's behalf when streaming.
    const sent = up.requests.filter((r) => r.body?.model === s.model).at(-1)!;
    expect(sent.path).toBe('/v1/completions');
    if (stream) expect(sent.body.stream_options).toEqual({ include_usage: true });
  });

  it('a streaming caller who asks for usage gets the usage chunk; one who does not, does not', async () => {
    const s = await funded(gw, up.url, 'cmpl-usage');
    const chunks = async (extra: object) => {
      const out: any[] = [];
      for await (const c of await s.sdk.completions.create({ model: s.model, prompt: 'Say tok', max_tokens: 2, stream: true, ...extra })) out.push(c);
      return out;
    };
    expect((await chunks({})).every((c) => c.choices.length > 0)).toBe(true);
    const asked = await chunks({ stream_options: { include_usage: true } });
    expect(asked.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: 2 } });
  });

  it('a stream without usage is billed on a count, flagged estimated', async () => {
    const s = await funded(gw, up.url, 'nousage');
    const before = await wallet(s.client);
    for await (const _ of await s.sdk.completions.create({ model: s.model, prompt: 'Say tok', max_tokens: 4, stream: true })) void _;
    // Chat's estimate (the same tap): the prompt as one message, plus 4 tokens of framing per message and 3.
    await expectBilled(s, before, tokens(countTokens('Say tok\n') + 4 + 3, countTokens('tok '.repeat(4))), { estimated: true, stream: true });
  });
});

describe('embeddings', () => {
  it('bills the prompt tokens the provider reports (the SDK asks for base64)', async () => {
    const s = await funded(gw, up.url, 'emb');
    const before = await wallet(s.client);
    const r = await s.sdk.embeddings.create({ model: s.model, input: ['one', 'two'] });
    expect(r.data.map((d) => d.embedding)).toEqual([[0.25, -0.5, 1], [0.25, -0.5, 1]]);
    await expectBilled(s, before, tokens(2 * TOKENS_PER_INPUT), { promptTokens: 2 * TOKENS_PER_INPUT, completionTokens: 0, estimated: false });
  });
});

describe('images', () => {
  it('a per-request price is charged once per call, not estimated', async () => {
    const s = await funded(gw, up.url, 'dalle', { price: { perRequest: '0.04' } });
    const before = await wallet(s.client);
    const r = await s.sdk.images.generate({ model: s.model, prompt: 'a mole' });
    expect(r.data?.[0]?.url).toBe('https://images.example/fake.png');
    await expectBilled(s, before, perRequest(0.04), { estimated: false });
  });

  it.each([false, true])('token-priced generation bills the image usage (stream=%s)', async (stream) => {
    const s = await funded(gw, up.url, 'gptimage');
    const before = await wallet(s.client);
    if (stream) {
      const events: string[] = [];
      for await (const e of await s.sdk.images.generate({ model: s.model, prompt: 'a mole', stream: true, partial_images: 1 })) events.push(e.type);
      expect(events).toEqual(['image_generation.partial_image', 'image_generation.completed']);
    } else {
      const r = await s.sdk.images.generate({ model: s.model, prompt: 'a mole' });
      expect(r.data?.[0]?.b64_json).toBe(PNG_1PX);
    }
    await expectBilled(s, before, tokens(IMAGE_USAGE.input_tokens, IMAGE_USAGE.output_tokens), { promptTokens: 12, completionTokens: 272, estimated: false, stream });
  });

  it('edits go upstream as multipart with the mapped model written in', async () => {
    const model = uniqueModel('edit');
    const upstreamModel = uniqueModel('upstream-edit');
    const s = await funded(gw, up.url, 'edit', { model, price: { perRequest: '0.02' }, channel: { modelMapping: { [model]: upstreamModel } } });
    const before = await wallet(s.client);
    const r = await s.sdk.images.edit({ model: s.model, prompt: 'add a hat', image: await toFile(Buffer.from(PNG_1PX, 'base64'), 'mole.png', { type: 'image/png' }) });
    expect(r.data).toHaveLength(1);
    const sent = up.requests.find((q) => q.form?.get('model') === upstreamModel)!;
    expect(sent.path).toBe('/v1/images/edits');
    expect(sent.form!.get('prompt')).toBe('add a hat');
    expect(sent.form!.has('file:image')).toBe(true);
    await expectBilled(s, before, perRequest(0.02), { estimated: false });
  });
});

describe('audio', () => {
  it('speech: the audio bytes pass through; a per-request price is charged', async () => {
    const s = await funded(gw, up.url, 'tts', { price: { perRequest: '0.015' } });
    const before = await wallet(s.client);
    const r = await s.sdk.audio.speech.create({ model: s.model, input: 'Hello there', voice: 'alloy' });
    expect(r.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await r.arrayBuffer())).toEqual(MP3_BYTES);
    await expectBilled(s, before, perRequest(0.015), { estimated: false });
  });

  it('speech as SSE bills the usage in speech.audio.done', async () => {
    const s = await funded(gw, up.url, 'tts-sse');
    const before = await wallet(s.client);
    const r = await s.sdk.audio.speech.create({ model: s.model, input: 'Hello there', voice: 'alloy', stream_format: 'sse' });
    const body = await r.text();
    expect(body).toContain('speech.audio.done');
    await expectBilled(s, before, tokens(SPEECH_USAGE.input_tokens, SPEECH_USAGE.output_tokens), { estimated: false, stream: true });
  });

  it('speech without usage or per-request price is estimated from the input text', async () => {
    const s = await funded(gw, up.url, 'tts-tokens');
    const before = await wallet(s.client);
    await (await s.sdk.audio.speech.create({ model: s.model, input: 'Hello there', voice: 'alloy' })).arrayBuffer();
    await expectBilled(s, before, tokens(countTokens('Hello there')), { estimated: true });
  });

  it.each([false, true])('transcriptions bill the token usage (stream=%s)', async (stream) => {
    const s = await funded(gw, up.url, 'stt');
    const before = await wallet(s.client);
    if (stream) {
      let text = '';
      for await (const e of await s.sdk.audio.transcriptions.create({ model: s.model, file: await audioFile(), stream: true })) if (e.type === 'transcript.text.delta') text += e.delta;
      expect(text.trim()).toBe(TRANSCRIPT);
    } else {
      expect((await s.sdk.audio.transcriptions.create({ model: s.model, file: await audioFile() })).text).toBe(TRANSCRIPT);
    }
    await expectBilled(s, before, tokens(TRANSCRIPT_USAGE.input_tokens, TRANSCRIPT_USAGE.output_tokens), { promptTokens: 20, completionTokens: 4, estimated: false, stream });
  });

  it('whisper (duration usage) is charged its per-request price', async () => {
    const s = await funded(gw, up.url, 'whisper', { price: { perRequest: '0.006' } });
    const before = await wallet(s.client);
    expect((await s.sdk.audio.transcriptions.create({ model: s.model, file: await audioFile() })).text).toBe(TRANSCRIPT);
    await expectBilled(s, before, perRequest(0.006), { estimated: false });
  });

  it('a text transcript without usage is counted, flagged estimated', async () => {
    const s = await funded(gw, up.url, 'stt-text');
    const before = await wallet(s.client);
    const text = await s.sdk.audio.transcriptions.create({ model: s.model, file: await audioFile(), response_format: 'text' });
    expect(String(text).trim()).toBe(TRANSCRIPT);
    await expectBilled(s, before, tokens(0, countTokens(`${TRANSCRIPT}\n`)), { estimated: true });
  });
});

describe('moderations and rerank', () => {
  it('moderations: per-request price; the model defaults to omni-moderation-latest', async () => {
    const s = await funded(gw, up.url, 'mod', { price: { perRequest: '0.0001' }, model: 'omni-moderation-latest' });
    const before = await wallet(s.client);
    const r = await s.sdk.moderations.create({ input: 'hello' } as any);
    expect(r.results[0]!.flagged).toBe(false);
    await expectBilled(s, before, perRequest(0.0001), { estimated: false });
  });

  it('moderations priced by tokens are estimated (the provider reports no usage)', async () => {
    const s = await funded(gw, up.url, 'mod-tokens');
    const before = await wallet(s.client);
    await s.sdk.moderations.create({ model: s.model, input: ['hello world', 'second'] });
    await expectBilled(s, before, tokens(countTokens('hello world\nsecond')), { estimated: true });
  });

  it('rerank (Jina style) bills usage.total_tokens', async () => {
    const s = await funded(gw, up.url, 'rerank');
    const before = await wallet(s.client);
    const res = await fetch(`${gw.url}/v1/rerank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: s.model, query: 'mole', documents: ['a', 'b', 'c'], top_n: 2 }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.results.map((r: any) => r.index)).toEqual([0, 1]);
    await expectBilled(s, before, tokens(PROMPT_TOKENS + 3 * TOKENS_PER_INPUT), { estimated: false });
  });
});

describe('bad input and upstream failures', () => {
  it.each([
    ['/v1/embeddings', { model: 'x' }, 'input'],
    ['/v1/completions', { prompt: 'hi' }, 'model'],
    ['/v1/images/generations', { model: 'x' }, 'prompt'],
    ['/v1/audio/speech', { model: 'x', input: 'hi' }, 'voice'],
    ['/v1/rerank', { model: 'x', query: 'q', documents: [] }, 'documents'],
    ['/v1/completions', { model: 'x', prompt: 'hi', max_tokens: -1 }, 'max_tokens'],
  ])('%s with %j → 400 naming %s in the OpenAI error shape', async (path, body, param) => {
    const s = await funded(gw, up.url, 'bad');
    const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('a transcription without its file part → 400 naming file (SDK error)', async () => {
    const s = await funded(gw, up.url, 'nofile');
    const form = new FormData();
    form.set('model', s.model);
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${s.key}` }, body: form });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe('file');
  });

  it('429 (with retry-after) fails over to the next channel; the bill is the second channel’s answer', async () => {
    const s = await funded(gw, up.url, 'emb-failover', { channel: { priority: 0, modelMapping: {} } });
    await gw.admin.post('/api/admin/channels', { name: `first-${s.model}`, type: 'openai', apiKey: 'sk-x', baseUrl: up.url, models: [s.model], priority: 10, modelMapping: { [s.model]: `${s.model}-error429` } });
    const before = await wallet(s.client);
    await s.sdk.embeddings.create({ model: s.model, input: 'one' });
    expect(up.requests.some((r) => r.body?.model === `${s.model}-error429`)).toBe(true);
    await expectBilled(s, before, tokens(TOKENS_PER_INPUT), { estimated: false });
  });

  it('a 500 on the only channel → 502 in OpenAI error shape, hold released', async () => {
    const s = await funded(gw, up.url, 'error500');
    const before = await wallet(s.client);
    const err = await s.sdk.embeddings.create({ model: s.model, input: 'one' }).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ code: 'upstream_error' });
    const after = await wallet(s.client);
    expect(after.balance.quota).toBe(before.balance.quota);
    expect(after.held.quota).toBe(0);
  });
});
