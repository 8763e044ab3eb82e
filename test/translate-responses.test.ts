// Non-streamed answers for every pair: recorded provider answers become the caller's shape with
// tool calls (ids kept), finish reasons mapped faithfully and usage (cached, cache-write, reasoning)
// carried into the common Usage the metering reads. Round-trip properties per protocol.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anthropicToGemini,
  anthropicToOpenAI,
  geminiToAnthropic,
  geminiToOpenAI,
  openaiToAnthropic,
  openaiToGemini,
} from '../src/relay/translate/index.ts';
import { CODECS } from '../src/relay/translate/codecs.ts';
import type { ChatResponse, Part, StopReason } from '../src/relay/translate/ir.ts';

/** gpt-4o answering with a tool call, prompt partly cached (as OpenAI sends it). */
const openaiToolAnswer = {
  id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
  object: 'chat.completion',
  created: 1741570283,
  model: 'gpt-4o-2024-08-06',
  choices: [{
    index: 0,
    message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } }], refusal: null, annotations: [] },
    logprobs: null,
    finish_reason: 'tool_calls',
  }],
  usage: {
    prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306,
    prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 128, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_eb9dce56a8',
};

/** Claude with extended thinking, text and a tool_use, reading and writing the prompt cache. */
const anthropicToolAnswer = {
  id: 'msg_01Aq9w938a90dw8q',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The user wants the weather.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
    { type: 'text', text: 'I will check.' },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'Paris, France' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 50, cache_creation_input_tokens: 1000, cache_read_input_tokens: 2000, output_tokens: 180, service_tier: 'standard' },
};

/** Gemini 2.5 with thoughts and a functionCall (no id, finishReason STOP, as Gemini sends it). */
const geminiToolAnswer = {
  candidates: [{
    content: { parts: [
      { text: 'Thinking about weather tools.', thought: true },
      { text: 'Checking.' },
      { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb7' },
    ], role: 'model' },
    finishReason: 'STOP',
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 120, candidatesTokenCount: 25, totalTokenCount: 185, cachedContentTokenCount: 64, thoughtsTokenCount: 40, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 120 }] },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'mK1eaJzWIqXk7M8P2Z6G4Ak',
};

describe('provider answers in the caller’s shape', () => {
  it('Anthropic answer → OpenAI caller: tool_calls, finish tool_calls, usage with cache and reasoning', () => {
    const { body, usage } = openaiToAnthropic.response(anthropicToolAnswer as never, { model: 'claude-sonnet-4-5' });
    expect(body).toMatchObject({
      id: 'msg_01Aq9w938a90dw8q',
      object: 'chat.completion',
      model: 'claude-sonnet-4-5',
      choices: [{
        index: 0,
        message: { role: 'assistant', content: 'I will check.', reasoning_content: 'The user wants the weather.', tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } }] },
        finish_reason: 'tool_calls',
      }],
      usage: { prompt_tokens: 3050, completion_tokens: 180, total_tokens: 3230, prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 1000 } },
    });
    expect(usage).toEqual({ inputTokens: 3050, outputTokens: 180, cachedInputTokens: 2000, cacheWriteTokens: 1000, reasoningTokens: 0 });
  });

  it('OpenAI answer → Anthropic caller: tool_use with parsed input, stop tool_use, input excludes cached', () => {
    const { body, usage } = anthropicToOpenAI.response(openaiToolAnswer as never);
    expect(body).toEqual({
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-2024-08-06',
      content: [{ type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', input: { location: 'Paris, France' } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 86, output_tokens: 300, cache_creation_input_tokens: 0, cache_read_input_tokens: 1920 },
    });
    expect(usage).toEqual({ inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920, cacheWriteTokens: 0, reasoningTokens: 128 });
  });

  it('Gemini answer → OpenAI caller: a made-up call id, STOP with a call becomes tool_calls, thoughts counted', () => {
    const { body, usage } = openaiToGemini.response(geminiToolAnswer as never, { model: 'gemini-2.5-flash' });
    const choice = (body as any).choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Checking.');
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls[0].id).toMatch(/^call_[A-Za-z0-9]+$/);
    expect(choice.message.tool_calls[0].function).toEqual({ name: 'get_weather', arguments: '{"location":"Paris"}' });
    expect((body as any).usage).toEqual({ prompt_tokens: 120, completion_tokens: 65, total_tokens: 185, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 40 } });
    expect(usage).toEqual({ inputTokens: 120, outputTokens: 65, cachedInputTokens: 64, cacheWriteTokens: 0, reasoningTokens: 40 });
  });

  it('Gemini answer → Anthropic caller: tool_use, thinking block, stop tool_use', () => {
    const { body } = anthropicToGemini.response(geminiToolAnswer as never, { model: 'gemini-2.5-flash' });
    expect((body as any).stop_reason).toBe('tool_use');
    expect((body as any).content.map((b: any) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect((body as any).content[2].input).toEqual({ location: 'Paris' });
    expect((body as any).usage).toEqual({ input_tokens: 56, output_tokens: 65, cache_creation_input_tokens: 0, cache_read_input_tokens: 64 });
  });

  it('OpenAI and Anthropic answers → Gemini caller: functionCall parts with ids, usage split into thoughts', () => {
    const fromOpenAI = geminiToOpenAI.response(openaiToolAnswer as never).body as any;
    expect(fromOpenAI.candidates[0]).toEqual({ content: { role: 'model', parts: [{ functionCall: { id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', args: { location: 'Paris, France' } } }] }, finishReason: 'STOP', index: 0 });
    expect(fromOpenAI.usageMetadata).toEqual({ promptTokenCount: 2006, candidatesTokenCount: 172, totalTokenCount: 2306, cachedContentTokenCount: 1920, thoughtsTokenCount: 128 });
    const fromAnthropic = geminiToAnthropic.response(anthropicToolAnswer as never).body as any;
    expect(fromAnthropic.candidates[0].content.parts).toEqual([
      { text: 'The user wants the weather.', thought: true },
      { text: 'I will check.' },
      { functionCall: { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', args: { location: 'Paris, France' } } },
    ]);
    expect(fromAnthropic.usageMetadata).toEqual({ promptTokenCount: 3050, candidatesTokenCount: 180, totalTokenCount: 3230, cachedContentTokenCount: 2000 });
  });

  it.each([
    ['length', 'max_tokens', 'MAX_TOKENS'],
    ['stop', 'end_turn', 'STOP'],
    ['tool_calls', 'tool_use', 'STOP'],
    ['content_filter', 'refusal', 'SAFETY'],
  ])('OpenAI finish %s → Anthropic %s, Gemini %s', (finish, anthropic, gemini) => {
    const answer = { ...openaiToolAnswer, choices: [{ ...openaiToolAnswer.choices[0], finish_reason: finish }] };
    expect((anthropicToOpenAI.response(answer as never).body as any).stop_reason).toBe(anthropic);
    expect((geminiToOpenAI.response(answer as never).body as any).candidates[0].finishReason).toBe(gemini);
  });

  it.each([
    ['max_tokens', 'length', 'MAX_TOKENS'],
    ['end_turn', 'stop', 'STOP'],
    ['stop_sequence', 'stop', 'STOP'],
    ['tool_use', 'tool_calls', 'STOP'],
    ['refusal', 'content_filter', 'SAFETY'],
  ])('Anthropic stop %s → OpenAI %s, Gemini %s', (stop, openai, gemini) => {
    const answer = { ...anthropicToolAnswer, stop_reason: stop, stop_sequence: stop === 'stop_sequence' ? '###' : null };
    expect((openaiToAnthropic.response(answer as never).body as any).choices[0].finish_reason).toBe(openai);
    expect((geminiToAnthropic.response(answer as never).body as any).candidates[0].finishReason).toBe(gemini);
  });

  it.each([
    ['MAX_TOKENS', 'length', 'max_tokens'],
    ['SAFETY', 'content_filter', 'refusal'],
    ['RECITATION', 'content_filter', 'refusal'],
    ['MALFORMED_FUNCTION_CALL', 'stop', 'end_turn'],
  ])('Gemini finish %s → OpenAI %s, Anthropic %s', (finish, openai, anthropic) => {
    const answer = { ...geminiToolAnswer, candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason: finish, index: 0 }] };
    expect((openaiToGemini.response(answer as never).body as any).choices[0].finish_reason).toBe(openai);
    expect((anthropicToGemini.response(answer as never).body as any).stop_reason).toBe(anthropic);
  });

  it('a Gemini answer blocked for its prompt is a content_filter finish with empty content', () => {
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } };
    expect((openaiToGemini.response(blocked as never).body as any).choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: '' } });
  });

  it.each([
    ['OpenAI', { prompt_tokens: 1e400, completion_tokens: 5, total_tokens: 5 }],
    ['OpenAI', { prompt_tokens: 10, completion_tokens: -5, total_tokens: 5 }],
    ['OpenAI', { prompt_tokens: 10, completion_tokens: 1.5, total_tokens: 5 }],
    ['OpenAI', { prompt_tokens: '10', completion_tokens: 1, total_tokens: 5 }],
  ])('untrustworthy %s usage %j is reported as missing (so the metering estimates), not as 0', (_p, usage) => {
    expect(anthropicToOpenAI.response({ ...openaiToolAnswer, usage } as never).usage).toBeUndefined();
  });

  it('untrustworthy Anthropic and Gemini usage is missing too; sums past 2^53 as well', () => {
    expect(openaiToAnthropic.response({ ...anthropicToolAnswer, usage: { input_tokens: 1e20, output_tokens: 1 } } as never).usage).toBeUndefined();
    expect(openaiToAnthropic.response({ ...anthropicToolAnswer, usage: { input_tokens: 2 ** 52, cache_read_input_tokens: 2 ** 52, output_tokens: 1 } } as never).usage).toBeUndefined();
    expect(openaiToGemini.response({ ...geminiToolAnswer, usageMetadata: { promptTokenCount: -1, candidatesTokenCount: 3 } } as never).usage).toBeUndefined();
  });
});

// ---- round trips: encoding a response for a protocol and decoding it gives it back ----

const jsonArgs = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 4 }).map((o) => JSON.stringify(o));
const textPart = fc.string({ minLength: 1 }).map((text): Part => ({ type: 'text', text }));
const toolPart = fc.record({ id: fc.stringMatching(/^call_[A-Za-z0-9]{6,20}$/), name: fc.stringMatching(/^[a-z_]{1,16}$/), arguments: jsonArgs }).map((t): Part => ({ type: 'tool_call', ...t }));
const counts = fc.nat({ max: 1_000_000 });
const usage = fc.record({ inputTokens: counts, outputTokens: counts, cachedInputTokens: counts, cacheWriteTokens: counts, reasoningTokens: counts }).map((u) => ({
  ...u,
  inputTokens: u.inputTokens + u.cachedInputTokens + u.cacheWriteTokens,
  outputTokens: u.outputTokens + u.reasoningTokens,
}));
const response = (stops: StopReason[]) =>
  fc.record({
    // one text part first (every protocol joins adjacent text), then tool calls
    text: fc.option(textPart, { nil: undefined }),
    tools: fc.array(toolPart, { maxLength: 3 }),
    stopReason: fc.constantFrom(...stops),
    usage,
  }).map(({ text, tools, stopReason, usage }): ChatResponse => ({ id: 'resp_1', model: 'm', created: 1, parts: [...(text ? [text] : []), ...tools], stopReason: tools.length ? 'tool_use' : stopReason, usage }));

describe('round trips', () => {
  it('OpenAI: encode then decode gives the same response, usage included', () => {
    fc.assert(fc.property(response(['end_turn', 'max_tokens', 'content_filter']), (res) => {
      expect(CODECS.openai.decodeResponse(CODECS.openai.encodeResponse(res), 'm')).toEqual(res);
    }));
  });

  it('Anthropic: encode then decode gives the same response (reasoning tokens are not reported separately)', () => {
    fc.assert(fc.property(response(['end_turn', 'max_tokens', 'refusal']), (res) => {
      const back = CODECS.anthropic.decodeResponse(CODECS.anthropic.encodeResponse(res), 'm');
      expect(back).toEqual({ ...res, created: undefined, usage: { ...res.usage, reasoningTokens: 0 } } as ChatResponse & { created: undefined });
    }));
  });

  it('Gemini: encode then decode keeps parts (call ids included), stop reason and usage (no cache writes at Gemini)', () => {
    fc.assert(fc.property(response(['end_turn', 'max_tokens', 'content_filter']), (res) => {
      const back = CODECS.gemini.decodeResponse(CODECS.gemini.encodeResponse(res), 'm');
      expect(back.parts).toEqual(res.parts);
      expect(back.stopReason).toBe(res.stopReason);
      expect(back.usage).toEqual({ ...res.usage, cacheWriteTokens: 0, inputTokens: res.usage!.inputTokens });
    }));
  });
});
