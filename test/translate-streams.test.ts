// Streaming translation for every pair, fed recorded provider SSE streams: the caller's events in
// the exact order its protocol uses, tool-call argument deltas, finish reasons and usage; the same
// output whatever the upstream chunking (random byte splits, CRLF line ends, multi-byte characters
// split in two); cut streams and upstream errors end with an in-band error in the caller's protocol.
import { createParser } from 'eventsource-parser';
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
import type { StreamTranslator } from '../src/relay/translate/stream.ts';

const sse = (events: Array<[string | null, unknown]>, eol = '\n') =>
  events.map(([ev, data]) => `${ev ? `event: ${ev}${eol}` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`).join('');

/** gpt-4o: text (with multi-byte characters), then two parallel tool calls, then the usage chunk. */
const base = { id: 'chatcmpl-AbC123', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_eb9dce56a8' };
const ch = (delta: unknown, finish: string | null = null) => [null, { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null }] as [null, unknown];
const OPENAI_STREAM = sse([
  ch({ role: 'assistant', content: '', refusal: null }),
  ch({ content: 'Café ☕ ' }),
  ch({ content: 'checking…' }),
  ch({ tool_calls: [{ index: 0, id: 'call_A1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  ch({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  ch({ tool_calls: [{ index: 0, function: { arguments: ' "Paris"}' } }] }),
  ch({ tool_calls: [{ index: 1, id: 'call_B2', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
  ch({ tool_calls: [{ index: 1, function: { arguments: '{"tz":"CET"}' } }] }),
  ch({}, 'tool_calls'),
  [null, { ...base, choices: [], usage: { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 128, audio_tokens: 0 } } }],
  [null, '[DONE]'],
]);

/** Claude: thinking (+signature), text, a tool_use streamed as input_json_delta, usage in message_delta. */
const a = (type: string, rest: Record<string, unknown>) => [type, { type, ...rest }] as [string, unknown];
const ANTHROPIC_STREAM = sse([
  a('message_start', { message: { id: 'msg_014p7gG3wDgGV9EUtLvnow3U', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 472, cache_creation_input_tokens: 100, cache_read_input_tokens: 2048, output_tokens: 2, service_tier: 'standard' } } }),
  a('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  a('ping', {}),
  a('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Need the weather.' } }),
  a('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } }),
  a('content_block_stop', { index: 0 }),
  a('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  a('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Café ☕ ' } }),
  a('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'checking…' } }),
  a('content_block_stop', { index: 1 }),
  a('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} } }),
  a('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
  a('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"location":' } }),
  a('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: ' "Paris"}' } }),
  a('content_block_stop', { index: 2 }),
  a('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } }),
  a('message_stop', {}),
]);

/** Gemini 2.5 `?alt=sse`: CRLF framing, a thought, text, a whole functionCall, usage on every chunk. */
const g = (parts: unknown[], usage: Record<string, number>, finish?: string) =>
  [null, { candidates: [{ content: { parts, role: 'model' }, ...(finish ? { finishReason: finish } : {}), index: 0 }], usageMetadata: { promptTokenCount: 120, ...usage }, modelVersion: 'gemini-2.5-flash', responseId: 'mK1eaJzWIqXk7M8P' }] as [null, unknown];
const GEMINI_STREAM = sse([
  g([{ text: 'Need the weather.', thought: true }], { totalTokenCount: 160, thoughtsTokenCount: 40 }),
  g([{ text: 'Café ☕ ' }], { candidatesTokenCount: 3, totalTokenCount: 163, thoughtsTokenCount: 40 }),
  g([{ text: 'checking…' }], { candidatesTokenCount: 5, totalTokenCount: 165, thoughtsTokenCount: 40 }),
  g([{ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb7' }], { candidatesTokenCount: 25, totalTokenCount: 185, cachedContentTokenCount: 64, thoughtsTokenCount: 40 }, 'STOP'),
], '\r\n');

interface Out {
  event?: string;
  data: string;
  json: any;
}
function parseOut(text: string): Out[] {
  const out: Out[] = [];
  const p = createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data, json: e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data) }) });
  p.feed(text);
  return out;
}

function run(t: StreamTranslator, input: string | Uint8Array[], endStream = true): string {
  let text = '';
  for (const c of typeof input === 'string' ? [input] : input) text += t.push(c);
  if (endStream) text += t.end();
  return text;
}

/** Random ids (Gemini sends no call ids) replaced, so runs compare equal. */
const stable = (s: string) => s.replace(/call_[A-Za-z0-9]{16}/g, 'call_X').replace(/"created":\d+/g, '"created":0');

describe('Anthropic stream → OpenAI caller', () => {
  it('emits role, text, reasoning and tool call deltas, finish tool_calls, the usage chunk, [DONE]', () => {
    const t = openaiToAnthropic.stream({ includeUsage: true, model: 'claude-sonnet-4-5' });
    const out = parseOut(run(t, ANTHROPIC_STREAM));
    const deltas = out.slice(0, -2).map((o) => o.json.choices[0].delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas.filter((d) => d.reasoning_content).map((d) => d.reasoning_content).join('')).toBe('Need the weather.');
    expect(deltas.filter((d) => d.content).map((d) => d.content).join('')).toBe('Café ☕ checking…');
    const calls = deltas.filter((d) => d.tool_calls).map((d) => d.tool_calls[0]);
    expect(calls[0]).toEqual({ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(calls.slice(1).map((c) => c.function.arguments).join('')).toBe('{"location": "Paris"}');
    expect(out.at(-3)!.json.choices[0].finish_reason).toBe('tool_calls');
    expect(out.at(-2)!.json).toMatchObject({ choices: [], usage: { prompt_tokens: 2620, completion_tokens: 89, total_tokens: 2709, prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 100 } } });
    expect(out.at(-1)!.data).toBe('[DONE]');
    expect(out.every((o) => o.data === '[DONE]' || o.json.model === 'claude-sonnet-4-5')).toBe(true);
    expect(t.usage).toEqual({ inputTokens: 2620, outputTokens: 89, cachedInputTokens: 2048, cacheWriteTokens: 100, reasoningTokens: 0 });
    expect(t.stopReason).toBe('tool_use');
    expect(t.complete).toBe(true);
  });

  it('sends no usage chunk when the caller did not ask for it (the metering still sees usage)', () => {
    const t = openaiToAnthropic.stream({ includeUsage: false });
    const out = parseOut(run(t, ANTHROPIC_STREAM));
    expect(out.some((o) => o.json !== '[DONE]' && 'usage' in o.json)).toBe(false);
    expect(t.usage?.outputTokens).toBe(89);
  });
});

describe('OpenAI stream → Anthropic caller', () => {
  it('emits Anthropic’s exact event sequence, with one tool_use block per parallel call', () => {
    const t = anthropicToOpenAI.stream();
    const out = parseOut(run(t, OPENAI_STREAM));
    expect(out.map((o) => (o.json.type === 'content_block_delta' ? `${o.json.index}:${o.json.delta.type}` : o.json.type === 'content_block_start' ? `${o.json.index}:start:${o.json.content_block.type}` : o.json.type === 'content_block_stop' ? `${o.json.index}:stop` : o.event))).toEqual([
      'message_start', 'ping',
      '0:start:text', '0:text_delta', '0:text_delta', '0:stop',
      '1:start:tool_use', '1:input_json_delta', '1:input_json_delta', '1:stop',
      '2:start:tool_use', '2:input_json_delta', '2:stop',
      'message_delta', 'message_stop',
    ]);
    expect(out.every((o) => o.event === o.json.type)).toBe(true);
    expect(out[0]!.json.message).toMatchObject({ id: 'chatcmpl-AbC123', type: 'message', role: 'assistant', model: 'gpt-4o-2024-08-06', content: [], stop_reason: null });
    expect(out[6]!.json.content_block).toEqual({ type: 'tool_use', id: 'call_A1', name: 'get_weather', input: {} });
    expect(out[10]!.json.content_block).toEqual({ type: 'tool_use', id: 'call_B2', name: 'get_time', input: {} });
    expect(out.at(-2)!.json).toEqual({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 86, output_tokens: 300, cache_creation_input_tokens: 0, cache_read_input_tokens: 1920 } });
    expect(t.usage).toEqual({ inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920, cacheWriteTokens: 0, reasoningTokens: 128 });
  });

  it('refuses interleaved parallel tool-call arguments with an in-band error (Anthropic blocks cannot interleave)', () => {
    const interleaved = sse([
      ch({ role: 'assistant', content: '' }),
      ch({ tool_calls: [{ index: 0, id: 'call_A', type: 'function', function: { name: 'a', arguments: '{' } }] }),
      ch({ tool_calls: [{ index: 1, id: 'call_B', type: 'function', function: { name: 'b', arguments: '{' } }] }),
      ch({ tool_calls: [{ index: 0, function: { arguments: '}' } }] }),
    ]);
    const out = parseOut(run(anthropicToOpenAI.stream(), interleaved, false));
    expect(out.at(-1)).toMatchObject({ event: 'error', json: { type: 'error', error: { type: 'api_error' } } });
    expect(out.at(-1)!.json.error.message).toContain('interleaved');
  });
});

describe('Gemini stream → OpenAI and Anthropic callers', () => {
  it('OpenAI caller: text, one tool call with a made-up id and whole arguments, finish tool_calls, usage', () => {
    const t = openaiToGemini.stream({ includeUsage: true, model: 'gemini-2.5-flash' });
    const out = parseOut(run(t, GEMINI_STREAM));
    const deltas = out.slice(0, -2).map((o) => o.json.choices[0].delta);
    expect(deltas.filter((d) => d.content).map((d) => d.content).join('')).toBe('Café ☕ checking…');
    const calls = deltas.filter((d) => d.tool_calls).map((d) => d.tool_calls[0]);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(calls[0].id).toMatch(/^call_/);
    expect(calls[1]).toEqual({ index: 0, function: { arguments: '{"location":"Paris"}' } });
    expect(out.at(-3)!.json.choices[0].finish_reason).toBe('tool_calls');
    expect(out.at(-2)!.json.usage).toEqual({ prompt_tokens: 120, completion_tokens: 65, total_tokens: 185, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 40 } });
  });

  it('Anthropic caller: thinking, text and tool_use blocks, stop tool_use, usage with cache reads', () => {
    const t = anthropicToGemini.stream({ model: 'gemini-2.5-flash' });
    const out = parseOut(run(t, GEMINI_STREAM));
    expect(out[0]!.json.message.usage).toEqual({ input_tokens: 120, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    const starts = out.filter((o) => o.event === 'content_block_start').map((o) => o.json.content_block.type);
    expect(starts).toEqual(['thinking', 'text', 'tool_use']);
    const json = out.filter((o) => o.json.delta?.type === 'input_json_delta').map((o) => o.json.delta.partial_json).join('');
    expect(JSON.parse(json)).toEqual({ location: 'Paris' });
    expect(out.at(-2)!.json).toEqual({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 56, output_tokens: 65, cache_creation_input_tokens: 0, cache_read_input_tokens: 64 } });
    expect(out.at(-1)!.event).toBe('message_stop');
  });
});

describe('OpenAI and Anthropic streams → Gemini caller', () => {
  it('OpenAI stream: text chunks, whole functionCall parts with ids, last chunk with finishReason and usage', () => {
    const out = parseOut(run(geminiToOpenAI.stream({ model: 'gpt-4o' }), OPENAI_STREAM));
    const parts = out.flatMap((o) => o.json.candidates[0].content.parts);
    expect(parts.filter((p: any) => p.text).map((p: any) => p.text).join('')).toBe('Café ☕ checking…');
    expect(parts.filter((p: any) => p.functionCall).map((p: any) => p.functionCall)).toEqual([
      { id: 'call_A1', name: 'get_weather', args: { location: 'Paris' } },
      { id: 'call_B2', name: 'get_time', args: { tz: 'CET' } },
    ]);
    expect(out.at(-1)!.json.candidates[0].finishReason).toBe('STOP');
    expect(out.at(-1)!.json.usageMetadata).toEqual({ promptTokenCount: 2006, candidatesTokenCount: 172, totalTokenCount: 2306, cachedContentTokenCount: 1920, thoughtsTokenCount: 128 });
    expect(out.every((o) => o.json.modelVersion === 'gpt-4o')).toBe(true);
  });

  it('Anthropic stream: thought parts, text, functionCall, usage', () => {
    const out = parseOut(run(geminiToAnthropic.stream(), ANTHROPIC_STREAM));
    const parts = out.flatMap((o) => o.json.candidates[0].content.parts);
    expect(parts[0]).toEqual({ text: 'Need the weather.', thought: true });
    expect(parts.find((p: any) => p.functionCall).functionCall).toEqual({ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', args: { location: 'Paris' } });
    expect(out.at(-1)!.json.usageMetadata).toEqual({ promptTokenCount: 2620, candidatesTokenCount: 89, totalTokenCount: 2709, cachedContentTokenCount: 2048 });
  });

  it('max_tokens from the upstream is MAX_TOKENS / length / max_tokens for each caller', () => {
    const cutByCap = sse([ch({ role: 'assistant', content: 'tok' }), ch({}, 'length'), [null, '[DONE]']]);
    expect(parseOut(run(geminiToOpenAI.stream(), cutByCap)).at(-1)!.json.candidates[0].finishReason).toBe('MAX_TOKENS');
    expect(parseOut(run(anthropicToOpenAI.stream(), cutByCap)).at(-2)!.json.delta.stop_reason).toBe('max_tokens');
    const geminiCap = sse([g([{ text: 'tok' }], { candidatesTokenCount: 1, totalTokenCount: 121 }, 'MAX_TOKENS')], '\r\n');
    expect(parseOut(run(openaiToGemini.stream(), geminiCap)).at(-2)!.json.choices[0].finish_reason).toBe('length');
  });
});

const PAIRS = [
  ['Anthropic → OpenAI caller', () => openaiToAnthropic.stream({ includeUsage: true }), ANTHROPIC_STREAM],
  ['Gemini → OpenAI caller', () => openaiToGemini.stream({ includeUsage: true }), GEMINI_STREAM],
  ['OpenAI → Anthropic caller', () => anthropicToOpenAI.stream(), OPENAI_STREAM],
  ['Gemini → Anthropic caller', () => anthropicToGemini.stream(), GEMINI_STREAM],
  ['OpenAI → Gemini caller', () => geminiToOpenAI.stream(), OPENAI_STREAM],
  ['Anthropic → Gemini caller', () => geminiToAnthropic.stream(), ANTHROPIC_STREAM],
] as const;

/** Splits bytes at the given offsets (a multi-byte character may fall in two pieces). */
function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((x, y) => x - y);
  const pieces: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(prev, c));
    prev = c;
  }
  return pieces;
}

describe.each(PAIRS)('%s under any chunking', (_name, make, stream) => {
  const whole = stable(run(make(), stream));

  it('gives the same output for random byte splits, LF or CRLF line ends', () => {
    expect(whole).toContain('Paris');
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (offsets, crlf) => {
        const text = crlf ? stream.replace(/\r?\n/g, '\r\n') : stream.replace(/\r\n/g, '\n');
        expect(stable(run(make(), splitAt(new TextEncoder().encode(text), offsets)))).toBe(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('a stream cut anywhere before its end gets exactly one in-band error as its last event, and keeps the usage seen', () => {
    const bytes = new TextEncoder().encode(stream);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: bytes.length - 8 }), (cut) => {
        const t = make();
        const out = parseOut(run(t, [bytes.subarray(0, cut)]));
        const errors = out.filter((o) => o.event === 'error' || (o.json !== '[DONE]' && 'error' in o.json));
        expect(errors).toHaveLength(1);
        expect(out.at(-1)).toBe(errors[0]);
        expect(t.complete).toBe(false);
        expect(t.closed).toBe(true);
        expect(out.some((o) => o.data === '[DONE]' || o.event === 'message_stop' || o.json.candidates?.[0]?.finishReason)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('upstream errors and gateway-ended streams', () => {
  it('an Anthropic error event mid-stream becomes an OpenAI error chunk and ends the stream', () => {
    const s = sse([a('message_start', { message: { id: 'msg_1', model: 'c', usage: { input_tokens: 5, output_tokens: 1 } } }), a('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })]);
    const t = openaiToAnthropic.stream();
    const out = parseOut(run(t, s));
    expect(out.at(-1)!.json).toEqual({ error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: null } });
    expect(out.filter((o) => 'error' in o.json)).toHaveLength(1);
  });

  it('an OpenAI error chunk becomes an Anthropic error event; a Gemini error becomes a Gemini-shaped caller error', () => {
    const s = sse([ch({ role: 'assistant', content: 'x' }), [null, { error: { message: 'server had an error', type: 'server_error' } }]]);
    expect(parseOut(run(anthropicToOpenAI.stream(), s)).at(-1)).toMatchObject({ event: 'error', json: { type: 'error', error: { type: 'api_error', message: 'server had an error' } } });
    expect(parseOut(run(geminiToOpenAI.stream(), s)).at(-1)!.json).toEqual({ error: { code: 500, message: 'server had an error', status: 'INTERNAL' } });
  });

  it('fail() ends the caller’s stream in its own protocol and nothing follows', () => {
    const t = anthropicToOpenAI.stream();
    const first = t.push(OPENAI_STREAM.slice(0, 400));
    expect(first).toContain('message_start');
    const failed = parseOut(t.fail('balance exhausted', 'rate_limit_error'));
    expect(failed).toEqual([{ event: 'error', data: expect.any(String), json: { type: 'error', error: { type: 'rate_limit_error', message: 'balance exhausted' } } }]);
    expect(t.push(OPENAI_STREAM.slice(400))).toBe('');
    expect(t.end()).toBe('');
  });

  it('untrustworthy usage in a stream replaces what came before with "missing", so the metering estimates', () => {
    const s = sse([
      a('message_start', { message: { id: 'msg_1', model: 'c', usage: { input_tokens: 5, output_tokens: 1 } } }),
      a('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      a('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hi' } }),
      a('content_block_stop', { index: 0 }),
      a('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 987654321 } }),
      a('message_stop', {}),
    ]).replace('987654321', '1e400'); // JSON.parse reads it as Infinity
    const t = openaiToAnthropic.stream({ includeUsage: true });
    const out = parseOut(run(t, s));
    expect(t.usage).toBeUndefined();
    expect(t.complete).toBe(true);
    expect(out.at(-1)!.data).toBe('[DONE]');
    expect(out.some((o) => o.json !== '[DONE]' && o.json.usage)).toBe(false);
  });

  it('garbage from the upstream is an in-band error, never a throw', () => {
    const t = openaiToGemini.stream();
    const out = parseOut(run(t, 'data: {"candidates": [\r\n\r\n'));
    expect(out).toHaveLength(1);
    expect(out[0]!.json.error.message).toContain('not valid JSON');
  });
});
