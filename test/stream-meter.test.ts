// The metering pieces of the non-OpenAI stream paths: the passthrough meter, the whole-event framer
// and the usage → billable conversion.
import { describe, expect, it } from 'vitest';
import { billableUsage, CountingDecoder, EventFramer, NO_OUTPUT } from '../src/relay/stream-meter.ts';
import { AnthropicStreamDecoder } from '../src/relay/translate/anthropic-stream.ts';
import { StreamTranslator } from '../src/relay/translate/stream.ts';

const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

describe('passthrough meter', () => {
  it('a server-tool block it cannot translate does not end the metering: the final usage is still read', () => {
    const counter = new CountingDecoder(new AnthropicStreamDecoder(), true);
    const meter = new StreamTranslator(counter, NO_OUTPUT);
    meter.push(ev('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 10, output_tokens: 1 } } }));
    meter.push(ev('content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }));
    meter.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } }));
    meter.push(ev('content_block_stop', { index: 0 }));
    meter.push(ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }));
    meter.push(ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'found' } }));
    meter.push(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 42 } }));
    meter.push(ev('message_stop', {}));
    meter.end();
    expect(meter.complete).toBe(true);
    expect(meter.usage).toMatchObject({ inputTokens: 10, outputTokens: 42 });
    expect(counter.text).toBe('found');
  });

  it('a translating (strict) meter ends with an error on the same block', () => {
    const meter = new StreamTranslator(new CountingDecoder(new AnthropicStreamDecoder()), NO_OUTPUT);
    meter.push(ev('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 10, output_tokens: 1 } } }));
    meter.push(ev('content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }));
    expect(meter.closed).toBe(true);
    expect(meter.complete).toBe(false);
  });
});

describe('EventFramer', () => {
  it('forwards whole events only, across chunks and CRLF', () => {
    const f = new EventFramer(1024);
    expect(f.push(Buffer.from('event: a\ndata: 1'))).toBeNull();
    expect(f.push(Buffer.from('\n\nevent: b\r\ndata: 2\r\n'))?.toString()).toBe('event: a\ndata: 1\n\n');
    expect(f.push(Buffer.from('\r\n'))?.toString()).toBe('event: b\r\ndata: 2\r\n\r\n');
  });

  it('refuses an event that grows past the limit', () => {
    const f = new EventFramer(8);
    expect(() => f.push(Buffer.from('data: 0123456789'))).toThrow(/larger than 8 bytes/);
  });
});

describe('billableUsage', () => {
  it('takes cache writes out of the prompt (they are billed on top) and refuses impossible numbers', () => {
    expect(billableUsage({ inputTokens: 16, outputTokens: 8, cachedInputTokens: 4, cacheWriteTokens: 2, reasoningTokens: 0 })).toEqual({
      promptTokens: 14,
      completionTokens: 8,
      cachedTokens: 4,
      cacheWriteTokens: 2,
    });
    expect(billableUsage({ inputTokens: 3, outputTokens: 1, cachedInputTokens: 4, cacheWriteTokens: 0, reasoningTokens: 0 })).toMatch(/cached/);
    expect(billableUsage({ inputTokens: 9_000_000, outputTokens: 2_000_000, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 })).toMatch(/10000000/);
  });
});
