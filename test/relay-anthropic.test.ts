// Inbound Anthropic Messages end to end: the official @anthropic-ai/sdk → the gateway → a fake
// Anthropic upstream (passthrough) or a fake OpenAI upstream (translated). Every call must move the
// wallet by exactly the price-table cost, and errors must come back in Anthropic's shape. The openai
// SDK against an anthropic channel is in relay-anthropic-chat.test.ts.
import Anthropic from '@anthropic-ai/sdk';
import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { cost, HELLO, sdkFor, setup, WEATHER_TOOL } from './helpers/anthropic-caller.ts';
import { expectBilled, wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { useChatFakes } from './helpers/chat-fakes.ts';
import { createUserWithKey } from './helpers/gateway.ts';

const f = useChatFakes();

describe('POST /v1/messages → anthropic channel (passthrough)', () => {
  it('non-stream: the upstream answer as is, billed from its usage; the upstream key and headers are the channel\'s', async () => {
    const s = await setup(f, 'anthropic', 'plain');
    const before = await wallet(s.client);
    const msg = await s.sdk.messages.create({ model: s.model, max_tokens: 100, messages: HELLO });
    expect(msg.id).toMatch(/^msg_fake/);
    expect(msg.content).toEqual([{ type: 'text', text: 'tok '.repeat(8) }]);
    expect(msg.usage).toMatchObject({ input_tokens: 10, output_tokens: 8 });
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 8 }), { promptTokens: 10, completionTokens: 8, estimated: false, stream: false });
    const sent = f.ant.requests.filter((r) => r.body?.model === s.model);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/v1/messages');
    expect(sent[0]!.headers['x-api-key']).toBe(s.upstreamKey);
    expect(sent[0]!.headers['anthropic-version']).toBe('2023-06-01');
    expect(JSON.stringify(sent[0]!.headers)).not.toContain(s.key);
  });

  it('the caller\'s anthropic-beta header reaches an anthropic channel, not an openai one', async () => {
    const s = await setup(f, 'anthropic', 'beta');
    const beta = 'interleaved-thinking-2025-05-14,context-1m-2025-08-07';
    await s.sdk.messages.create({ model: s.model, max_tokens: 5, messages: HELLO }, { headers: { 'anthropic-beta': beta } });
    expect(f.ant.requests.find((r) => r.body?.model === s.model)!.headers['anthropic-beta']).toBe(beta);
    const o = await setup(f, 'openai', 'beta');
    await o.sdk.messages.create({ model: o.model, max_tokens: 5, messages: HELLO }, { headers: { 'anthropic-beta': beta } });
    expect(f.oai.requests.find((r) => r.body?.model === o.model)!.headers['anthropic-beta']).toBeUndefined();
  });

  it('stream: the upstream events as is, billed from message_start + message_delta usage incl. cache reads and writes', async () => {
    const s = await setup(f, 'anthropic', 'cached');
    const before = await wallet(s.client);
    const stream = s.sdk.messages.stream({ model: s.model, max_tokens: 100, messages: HELLO });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'tok '.repeat(8) }]);
    expect(final.stop_reason).toBe('end_turn');
    // input 10 uncached + 4 cache reads + 2 cache writes, 8 output
    await expectBilled(s, before, cost({ promptTokens: 14, cachedTokens: 4, cacheWriteTokens: 2, completionTokens: 8 }), { promptTokens: 14, cachedTokens: 4, completionTokens: 8, estimated: false, stream: true });
  });

  it('tools, stream and not: tool_use blocks and stop_reason tool_use reach the caller', async () => {
    for (const streamed of [false, true]) {
      const s = await setup(f, 'anthropic', 'tools');
      const before = await wallet(s.client);
      const params = { model: s.model, max_tokens: 100, messages: [{ role: 'user' as const, content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] };
      const msg = streamed ? await s.sdk.messages.stream(params).finalMessage() : await s.sdk.messages.create(params);
      expect(msg.stop_reason).toBe('tool_use');
      const tool = msg.content.find((b) => b.type === 'tool_use');
      expect(tool).toMatchObject({ name: 'get_weather', input: { location: 'Paris' } });
      await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 12 }));
    }
  });

  it('a mid-stream cut ends with an in-band error event and bills the delivered text', async () => {
    const s = await setup(f, 'anthropic', 'cut');
    const before = await wallet(s.client);
    const res = await fetch(`${f.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': s.key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: s.model, max_tokens: 100, stream: true, messages: HELLO }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'error']);
    expect(text).toMatch(/data: \{"type":"error","error":\{"type":"api_error","message":"The upstream provider interrupted the stream/);
    // 10 input tokens from message_start; the 3 × "tok " delivered, counted (message_start says 1 output token)
    const delivered = countTokens('tok '.repeat(3));
    expect(delivered).toBeGreaterThan(1);
    const log = await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: delivered }), { promptTokens: 10, completionTokens: delivered, estimated: true, status: 502 });
    expect(log.error).toMatch(/interrupted|ended before/);
  });

  it('the SDK sees a cut stream as an error', async () => {
    const s = await setup(f, 'anthropic', 'cut');
    await expect(s.sdk.messages.stream({ model: s.model, max_tokens: 100, messages: HELLO }).finalMessage()).rejects.toThrow(/interrupted the stream/);
  });

  it('an upstream 400 reaches the caller as Anthropic sent it; nothing is billed', async () => {
    const s = await setup(f, 'anthropic', 'error400');
    const before = await wallet(s.client);
    const err = await s.sdk.messages.create({ model: s.model, max_tokens: 100, messages: HELLO }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'temperature: range: 0..1' } });
    const log = await eventually(async () => {
      const logs = await s.client.get(`/api/logs?model=${encodeURIComponent(s.model)}`);
      expect(logs.body.items).toHaveLength(1);
      return logs.body.items[0];
    });
    expect(log).toMatchObject({ status: 400, cost: { quota: 0 } });
    const after = await wallet(s.client);
    expect(after.balance.quota).toBe(before.balance.quota);
    expect(after.held.quota).toBe(0);
  });
});

describe('POST /v1/messages → openai channel (translated)', () => {
  it('non-stream: an Anthropic message from the OpenAI answer, billed from the OpenAI usage', async () => {
    const s = await setup(f, 'openai', 'plain');
    const before = await wallet(s.client);
    const msg = await s.sdk.messages.create({ model: s.model, max_tokens: 5, system: 'Be brief.', messages: HELLO });
    expect(msg.type).toBe('message');
    expect(msg.model).toBe(s.model);
    expect(msg.content).toEqual([{ type: 'text', text: 'tok '.repeat(5) }]);
    expect(msg.stop_reason).toBe('max_tokens'); // OpenAI's finish_reason "length": the cap of 5 cut it
    expect(msg.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 5 }), { promptTokens: 10, completionTokens: 5, estimated: false });
    const sent = f.oai.requests.filter((r) => r.body?.model === s.model);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/v1/chat/completions');
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${s.upstreamKey}`);
    expect(sent[0]!.body.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say tok.' }]);
  });

  it('stream: Anthropic events from the OpenAI chunks, billed from the OpenAI usage chunk', async () => {
    const s = await setup(f, 'openai', 'stream');
    const before = await wallet(s.client);
    const stream = s.sdk.messages.stream({ model: s.model, max_tokens: 100, messages: HELLO });
    const seen: string[] = [];
    stream.on('streamEvent', (e) => seen.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'tok '.repeat(8) }]);
    expect(final.usage).toMatchObject({ input_tokens: 10, output_tokens: 8 });
    expect(seen[0]).toBe('message_start');
    expect(seen.at(-1)).toBe('message_stop');
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 8 }), { estimated: false, stream: true });
    const sent = f.oai.requests.filter((r) => r.body?.model === s.model);
    expect(sent[0]!.body.stream_options).toEqual({ include_usage: true });
  });

  it('tools and a tool result are translated to OpenAI function tools, ids preserved', async () => {
    const s = await setup(f, 'openai', 'toolsx');
    const before = await wallet(s.client);
    await s.sdk.messages.create({
      model: s.model,
      max_tokens: 4,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'auto' },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' }] },
      ],
    });
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 4 }));
    const body = f.oai.requests.find((r) => r.body?.model === s.model)!.body;
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: WEATHER_TOOL.input_schema } }]);
    expect(body.messages[1].tool_calls).toEqual([{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }]);
    expect(body.messages[2]).toMatchObject({ role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' });
  });

  it('a mid-stream cut ends with an in-band Anthropic error event and bills the delivered text', async () => {
    const s = await setup(f, 'openai', 'cut');
    const before = await wallet(s.client);
    const res = await fetch(`${f.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` },
      body: JSON.stringify({ model: s.model, max_tokens: 100, stream: true, messages: HELLO }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('error');
    expect(events).not.toContain('message_stop');
    const log = await eventually(async () => {
      const logs = await s.client.get(`/api/logs?model=${encodeURIComponent(s.model)}`);
      expect(logs.body.items).toHaveLength(1);
      return logs.body.items[0];
    });
    expect(log.status).toBe(502);
    expect(log.estimated).toBe(true);
    expect(log.completionTokens).toBeGreaterThan(0);
    expect(log.cost.quota).toBe(cost({ promptTokens: log.promptTokens, completionTokens: log.completionTokens }));
    const after = await wallet(s.client);
    expect(after.balance.quota).toBe(before.balance.quota - log.cost.quota);
  });

  it('a field that cannot be translated → 400 in Anthropic shape naming it; the hold is released', async () => {
    const s = await setup(f, 'openai', 'untrans');
    const before = await wallet(s.client);
    const err = await s.sdk.messages.create({ model: s.model, max_tokens: 10, messages: HELLO, tools: [{ type: 'web_search_20250305', name: 'web_search' } as any] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.type).toBe('error');
    expect(err.error.error.type).toBe('invalid_request_error');
    expect(err.error.error.message).toMatch(/tools\[0\]/);
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota);
  });
});

describe('/v1/messages refusals in Anthropic shape', () => {
  const raw = (headers: Record<string, string>, body: unknown) =>
    fetch(`${f.gw.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('401 without a key or with a wrong one (x-api-key or Bearer)', async () => {
    const none = await raw({}, { model: 'x', max_tokens: 1, messages: HELLO });
    expect(none).toMatchObject({ status: 401, body: { type: 'error', error: { type: 'authentication_error' } } });
    const wrong = await sdkFor(f, 'sk-wrong').messages.create({ model: 'x', max_tokens: 1, messages: HELLO }).catch((e) => e);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(wrong.error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.stringMatching(/Incorrect API key/) } });
    const bearer = await sdkFor(f, '', { apiKey: null, authToken: 'sk-wrong' }).messages.create({ model: 'x', max_tokens: 1, messages: HELLO }).catch((e) => e);
    expect(bearer).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('403 for a model the key may not use, 404 for an unknown model, 400 without max_tokens', async () => {
    const s = await setup(f, 'anthropic', 'plain');
    const limited = await createUserWithKey(f.gw, { balance: 1_000_000, key: { models: ['other-model'] } });
    const forbidden = await sdkFor(f, limited.key).messages.create({ model: s.model, max_tokens: 1, messages: HELLO }).catch((e) => e);
    expect(forbidden).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(forbidden.error.error.type).toBe('permission_error');
    const unknown = await s.sdk.messages.create({ model: 'no-such-model', max_tokens: 1, messages: HELLO }).catch((e) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const noMax = await raw({ 'x-api-key': s.key }, { model: s.model, messages: HELLO });
    expect(noMax).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/max_tokens/) } } });
  });

  it('429 rate_limit_error when the balance cannot cover the hold on max_tokens', async () => {
    const s = await setup(f, 'anthropic', 'poor', 100);
    const before = await wallet(s.client);
    // max_tokens 1000 × 4 points > 100 points of balance
    const err = await s.sdk.messages.create({ model: s.model, max_tokens: 1000, messages: HELLO }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringMatching(/balance is too low/) } });
    expect(f.ant.requests.filter((r) => r.body?.model === s.model)).toHaveLength(0);
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    // a cap the balance covers goes through: the hold follows max_tokens
    await s.sdk.messages.create({ model: s.model, max_tokens: 5, messages: HELLO });
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 5 }));
  });

  it('GET /v1/models answers in Anthropic\'s format to an Anthropic client, in OpenAI\'s otherwise', async () => {
    const s = await setup(f, 'anthropic', 'listed');
    const page = await s.sdk.models.list();
    expect(page.data.map((m) => m.id)).toContain(s.model);
    expect(page.data.find((m) => m.id === s.model)).toMatchObject({ type: 'model', display_name: s.model });
    const openaiStyle = await fetch(`${f.gw.url}/v1/models`, { headers: { authorization: `Bearer ${s.key}` } }).then((r) => r.json());
    expect(openaiStyle).toMatchObject({ object: 'list' });
    expect(openaiStyle.data.find((m: any) => m.id === s.model)).toMatchObject({ object: 'model' });
  });

  it('count_tokens answers a local estimate and bills nothing', async () => {
    const s = await setup(f, 'anthropic', 'count');
    const r = await s.sdk.messages.countTokens({ model: s.model, messages: HELLO });
    expect(r.input_tokens).toBeGreaterThan(0);
    expect(f.ant.requests.filter((q) => q.body?.model === s.model)).toHaveLength(0);
  });
});
