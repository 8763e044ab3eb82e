// /v1/responses end to end with the official `openai` SDK: passed through to an OpenAI channel (the fake
// upstream's real Responses wire format), and translated for an Anthropic channel (the fake Anthropic
// upstream). Every call moves the wallet by exactly the provider's reported usage; what cannot be
// translated is a 400 naming the field. Also chat completions with tools through the SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIError } from 'openai';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { PROMPT_TOKENS } from './fakes/openai-surfaces.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { expectBilled, funded, wallet } from './helpers/billing.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let up: FakeOpenAI;
let anthropic: FakeAnthropic;

beforeAll(async () => {
  [up, anthropic] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([up?.close(), anthropic?.close()]);
});

const tokens = (input: number, output = 0) => input + 4 * output;
const WEATHER = { type: 'function' as const, name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };

describe('Responses API over an OpenAI channel (passthrough)', () => {
  it('non-stream: the provider answer as it is, billed on its usage', async () => {
    const s = await funded(gw, up.url, 'resp');
    const before = await wallet(s.client);
    const r = await s.sdk.responses.create({ model: s.model, input: 'Say tok', instructions: 'Be brief', max_output_tokens: 5, previous_response_id: 'resp_earlier' });
    expect(r.output_text).toBe('tok '.repeat(5));
    expect(r.id).toMatch(/^resp_fake/);
    const sent = up.requests.find((q) => q.body?.model === s.model)!;
    expect(sent.path).toBe('/v1/responses');
    expect(sent.body.previous_response_id).toBe('resp_earlier'); // the caller's bytes, untouched
    await expectBilled(s, before, tokens(PROMPT_TOKENS, 5), { promptTokens: PROMPT_TOKENS, completionTokens: 5, estimated: false, stream: false });
  });

  it('stream: typed events through the SDK; reasoning tokens are part of the billed output', async () => {
    const s = await funded(gw, up.url, 'reasoning');
    const before = await wallet(s.client);
    const types: string[] = [];
    let text = '';
    let final: any;
    for await (const e of await s.sdk.responses.create({ model: s.model, input: [{ role: 'user', content: 'Say tok' }], stream: true })) {
      types.push(e.type);
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') final = e.response;
    }
    expect(text).toBe('tok '.repeat(8));
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(final.usage.output_tokens_details.reasoning_tokens).toBe(2);
    await expectBilled(s, before, tokens(PROMPT_TOKENS, 10), { promptTokens: PROMPT_TOKENS, completionTokens: 10, estimated: false, stream: true });
  });

  it('stream with a function call: the call reaches the caller, the usage is billed', async () => {
    const s = await funded(gw, up.url, 'toolcall');
    const before = await wallet(s.client);
    const stream = s.sdk.responses.stream({ model: s.model, input: 'Weather in Paris?', tools: [WEATHER] });
    const r = await stream.finalResponse();
    expect(r.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
    await expectBilled(s, before, tokens(PROMPT_TOKENS, 8), { estimated: false, stream: true });
  });

  it('a stream cut mid-way ends with an in-band error event and is billed for what was delivered (estimated)', async () => {
    const s = await funded(gw, up.url, 'cut');
    const before = await wallet(s.client);
    let text = '';
    let last: any;
    for await (const e of await s.sdk.responses.create({ model: s.model, input: 'Say tok', stream: true })) {
      if (e.type === 'response.output_text.delta') text += e.delta;
      last = e;
    }
    // OpenAI's own in-band error event: {type: "error", code, message} (the SDK yields it, it does not throw).
    expect(last).toMatchObject({ type: 'error', code: 'upstream_error', message: expect.stringContaining('interrupted') });
    expect(text).toBe('tok tok tok ');
    const after = await wallet(s.client);
    const log = await expectBilled(s, before, before.balance.quota - after.balance.quota, { status: 502, estimated: true, stream: true });
    expect(log.completionTokens).toBeGreaterThanOrEqual(3);
  });

  it('bad input → 400 naming the field', async () => {
    const s = await funded(gw, up.url, 'resp-bad');
    for (const [body, param] of [
      [{ input: 'hi' }, 'model'],
      [{ model: s.model, input: 5 }, 'input'],
      [{ model: s.model, input: 'hi', max_output_tokens: 0 }, 'max_output_tokens'],
      [{ model: s.model, input: 'hi', stream: 'yes' }, 'stream'],
    ] as const) {
      const err = await s.sdk.responses.create(body as any).catch((e) => e);
      expect(err).toBeInstanceOf(APIError);
      expect(err.status).toBe(400);
      expect(err.error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });
});

describe('Responses API over an Anthropic channel (translated)', () => {
  const anthropicChannel = { type: 'anthropic', baseUrl: '' };

  it('non-stream: text and instructions translated, the answer a Responses object, billed on Anthropic usage', async () => {
    const s = await funded(gw, anthropic.url, 'aresp', { channel: { ...anthropicChannel, baseUrl: anthropic.url } });
    const before = await wallet(s.client);
    const r = await s.sdk.responses.create({ model: s.model, input: 'Say tok', instructions: 'Be brief', max_output_tokens: 5 });
    expect(r.object).toBe('response');
    expect(r.status).toBe('incomplete'); // Anthropic stopped at max_tokens
    expect(r.incomplete_details?.reason).toBe('max_output_tokens');
    expect(r.output_text).toBe('tok '.repeat(5));
    const sent = anthropic.requests.find((q) => q.body?.model === s.model)!;
    expect(sent.body).toMatchObject({ system: 'Be brief', max_tokens: 5, messages: [{ role: 'user' }] });
    await expectBilled(s, before, tokens(10, 5), { promptTokens: 10, completionTokens: 5, estimated: false, stream: false });
  });

  it('stream with tools: Anthropic tool_use becomes a function_call item with its id; billed on the message_delta usage', async () => {
    const s = await funded(gw, anthropic.url, 'tools', { channel: { ...anthropicChannel, baseUrl: anthropic.url } });
    const before = await wallet(s.client);
    const types: string[] = [];
    const stream = s.sdk.responses.stream({ model: s.model, input: 'Weather in Paris?', tools: [WEATHER] });
    stream.on('event', (e) => types.push(e.type));
    const r = await stream.finalResponse();
    expect(r.output.map((o) => o.type)).toEqual(['message', 'function_call']);
    expect(r.output[0]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'Let me check.' }] });
    expect(r.output[1]).toMatchObject({ call_id: expect.stringMatching(/^toolu_fake/), name: 'get_weather', arguments: '{"location": "Paris"}' });
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types.at(-1)).toBe('response.completed');
    const sent = anthropic.requests.find((q) => q.body?.model === s.model)!;
    expect(sent.body.tools[0]).toMatchObject({ name: 'get_weather', input_schema: WEATHER.parameters });
    await expectBilled(s, before, tokens(10, 12), { promptTokens: 10, completionTokens: 12, estimated: false, stream: true });
  });

  it('a function call output goes back as a tool_result with the call id', async () => {
    const s = await funded(gw, anthropic.url, 'aresp-turn', { channel: { ...anthropicChannel, baseUrl: anthropic.url } });
    await s.sdk.responses.create({
      model: s.model,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' },
      ],
      tools: [WEATHER],
    });
    const sent = anthropic.requests.find((q) => q.body?.model === s.model)!;
    expect(sent.body.messages[1]).toMatchObject({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] });
    expect(sent.body.messages[2]).toMatchObject({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] });
  });

  it.each([
    [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type'],
  ])('untranslatable %j → 400 naming %s, nothing charged', async (extra, param) => {
    const s = await funded(gw, anthropic.url, 'aresp-bad', { channel: { ...anthropicChannel, baseUrl: anthropic.url } });
    const before = await wallet(s.client);
    const err = await s.sdk.responses.create({ model: s.model, input: 'hi', ...extra } as any).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ code: 'untranslatable_field', param });
    const after = await wallet(s.client);
    expect(after.balance.quota).toBe(before.balance.quota);
    expect(after.held.quota).toBe(0);
  });
});

describe('chat completions with tools through the openai SDK', () => {
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: WEATHER.parameters } }];

  it.each([false, true])('the tool call reaches the caller, usage billed (stream=%s)', async (stream) => {
    const s = await funded(gw, up.url, 'toolcall');
    const before = await wallet(s.client);
    const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];
    let call: any;
    if (stream) {
      const r = await s.sdk.chat.completions.stream({ model: s.model, messages, tools }).finalChatCompletion();
      call = r.choices[0]!.message.tool_calls?.[0];
      expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    } else {
      const r = await s.sdk.chat.completions.create({ model: s.model, messages, tools });
      call = r.choices[0]!.message.tool_calls?.[0];
      expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    }
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    await expectBilled(s, before, tokens(PROMPT_TOKENS, 5), { promptTokens: PROMPT_TOKENS, completionTokens: 5, estimated: false, stream });
  });
});
