// The Anthropic passthrough tap on its own: it must read a stream exactly as the decoder-based metering
// did (usage, completion, error, delivered text) whatever the chunk boundaries, and a long stream
// without usage must be billed on a sane estimate while the tap holds a bounded amount of memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnthropicStreamTap } from '../src/relay/anthropic-tap.ts';
import { OpenAIStreamTap, RETAIN_BYTES, TEXT_CHARS } from '../src/relay/sse-tap.ts';
import { CountingDecoder, EventFramer, NO_OUTPUT } from '../src/relay/stream-meter.ts';
import { countTokens } from '../src/relay/tokens.ts';
import { AnthropicStreamDecoder } from '../src/relay/translate/anthropic-stream.ts';
import { StreamTranslator } from '../src/relay/translate/stream.ts';

const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const START = sse('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], usage: { input_tokens: 21, cache_read_input_tokens: 4, output_tokens: 1 } } });
const delta = (text: string) => sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
const BODY = [
  START,
  sse('ping', {}),
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  delta('Hello "message_start" and "error" '),
  delta('wörld — 你好 🐀'),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'tu_1', name: 'get', input: {} } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":"Par' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: 'is"}' } }),
  sse('content_block_stop', { index: 1 }),
  sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 17 } }),
  sse('message_stop', {}),
];

/** Feeds `stream` cut at `cuts` through the framer into the tap and into the decoder-based metering. */
function both(stream: Buffer, cuts: number[]) {
  const tap = new AnthropicStreamTap();
  const counter = new CountingDecoder(new AnthropicStreamDecoder(), true);
  const tr = new StreamTranslator(counter, NO_OUTPUT);
  const framer = new EventFramer(1 << 20);
  const out: Buffer[] = [];
  let prev = 0;
  for (const at of [...cuts, stream.length]) {
    const whole = framer.push(stream.subarray(prev, at));
    prev = at;
    if (whole) {
      tap.push(whole);
      tr.push(whole);
      out.push(whole);
    }
  }
  return { tap, tr, counter, out: Buffer.concat(out) };
}

describe('AnthropicStreamTap', () => {
  it('meters as the decoder did, whatever the chunk boundaries, forwarding the bytes as they are', () => {
    const variants = [BODY, BODY.slice(0, 6), [...BODY.slice(0, 5), sse('error', { error: { type: 'overloaded_error', message: 'busy' } })], BODY.map((e) => e.replaceAll('\n', '\r\n'))];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: variants.length - 1 }), fc.array(fc.nat(), { maxLength: 12 }), (v, raw) => {
        const stream = Buffer.from(variants[v]!.join(''));
        const cuts = [...new Set(raw.map((n) => n % stream.length))].sort((a, b) => a - b);
        const { tap, tr, counter, out } = both(stream, cuts);
        expect(out.equals(stream)).toBe(true);
        expect(tap.usage).toEqual(tr.usage);
        expect(tap.complete).toBe(tr.complete);
        expect(tap.closed).toBe(tr.closed);
        const d = tap.delivered();
        expect(d.text).toBe(counter.text);
        expect(d.events > 0).toBe(counter.events > 0);
      }),
      { numRuns: 150 },
    );
  });

  it('ignores what follows an upstream error event', () => {
    const stream = Buffer.from([...BODY.slice(0, 4), sse('error', { error: { type: 'overloaded_error', message: 'busy' } }), delta('after'), BODY.at(-2)!].join(''));
    const { tap } = both(stream, []);
    expect(tap.errored).toBe(true);
    expect(tap.delivered().text).not.toContain('after');
    expect(tap.usage?.outputTokens).toBe(1); // message_start's placeholder, not the late message_delta
  });

  it('parses no content event of a stream that ends with its usage', () => {
    const { tap } = both(Buffer.from(BODY.join('')), []);
    expect(tap.complete).toBe(true);
    expect(tap.usage).toMatchObject({ inputTokens: 25, outputTokens: 17, cachedInputTokens: 4 });
    expect(tap.retainedSize).toBeGreaterThan(0); // the content events are still raw bytes
  });
});

// A 4 MB answer of varied words, streamed in small deltas, with no usage at all.
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
function longText(bytes: number): string[] {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const t = ` ${WORDS[i % WORDS.length]}${i % 7} ${WORDS[(i * 5) % WORDS.length]}.`;
    parts.push(t);
    size += t.length;
  }
  return parts;
}

describe('a 4 MB stream without usage', () => {
  const parts = longText(4 * 1024 * 1024);
  const full = parts.join('');
  const bound = Math.max(RETAIN_BYTES, TEXT_CHARS) + 64 * 1024;

  async function estimateOf(d: { text: string; bytes: number }) {
    return (await countTokens(d.text)) + Math.ceil(d.bytes / 4);
  }

  it('Anthropic: retains a bounded amount and is billed on a sane estimate', async () => {
    const exact = await countTokens(full);
    const tap = new AnthropicStreamTap();
    let peak = 0;
    tap.push(Buffer.from(START));
    for (let i = 0; i < parts.length; i += 40) {
      tap.push(Buffer.from(parts.slice(i, i + 40).map(delta).join('')));
      peak = Math.max(peak, tap.retainedSize);
    }
    expect(peak).toBeLessThanOrEqual(bound);
    const d = tap.delivered();
    expect(tap.retainedSize).toBeLessThanOrEqual(bound);
    const estimate = await estimateOf(d);
    // Past the kept text the rest counts at 4 bytes a token: within 30 % of the true count for this (digit-heavy) text.
    expect(estimate).toBeGreaterThanOrEqual(exact * 0.7);
    expect(estimate).toBeLessThanOrEqual(exact * 1.3);
  });

  it('OpenAI: retains a bounded amount and is billed on a sane estimate', async () => {
    const exact = await countTokens(full);
    const tap = new OpenAIStreamTap(false);
    let peak = 0;
    const ev = (t: string) => `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}},"finish_reason":null}]}\n\n`;
    for (let i = 0; i < parts.length; i += 40) {
      tap.push(Buffer.from(parts.slice(i, i + 40).map(ev).join('')));
      peak = Math.max(peak, tap.retainedSize);
    }
    tap.push(Buffer.from('data: [DONE]\n\n'));
    expect(peak).toBeLessThanOrEqual(bound);
    expect(tap.usage).toBeNull();
    const { tokens } = await tap.completion();
    expect(tokens).toBeGreaterThanOrEqual(exact * 0.7);
    expect(tokens).toBeLessThanOrEqual(exact * 1.3);
  });
});
