// Bad input never crashes a translator: whatever JSON a caller (or an upstream) sends, a translator
// either translates it or throws a TranslationError (a 400 naming the field; a 502 for upstream
// answers), never a TypeError that would become a 500.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TranslationError } from '../src/relay/translate/index.ts';
import { CODECS } from '../src/relay/translate/codecs.ts';
import type { Protocol } from '../src/relay/translate/ir.ts';
import { StreamTranslator } from '../src/relay/translate/stream.ts';

const PROTOCOLS: Protocol[] = ['openai', 'anthropic', 'gemini'];

/** JSON shaped like each protocol's body, with any value anywhere. */
const anyValue = fc.jsonValue({ maxDepth: 3 });
const part = fc.oneof(
  anyValue,
  fc.record({ type: fc.constantFrom('text', 'image_url', 'image', 'tool_use', 'tool_result', 'thinking', 'refusal'), text: anyValue, image_url: anyValue, source: anyValue, id: anyValue, name: anyValue, input: anyValue, tool_use_id: anyValue, content: anyValue }, { requiredKeys: ['type'] }),
  fc.record({ text: anyValue, thought: anyValue, inlineData: anyValue, fileData: anyValue, functionCall: anyValue, functionResponse: anyValue }, { requiredKeys: [] }),
);
const message = fc.record({ role: fc.oneof(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'model', 'function'), anyValue), content: fc.oneof(anyValue, fc.array(part, { maxLength: 3 })), parts: fc.oneof(anyValue, fc.array(part, { maxLength: 3 })), tool_calls: fc.oneof(anyValue, fc.array(fc.record({ id: anyValue, type: anyValue, function: fc.oneof(anyValue, fc.record({ name: anyValue, arguments: anyValue })) }), { maxLength: 2 })), tool_call_id: anyValue }, { requiredKeys: ['role'] });
const body = fc.record(
  {
    model: anyValue, max_tokens: anyValue, messages: fc.oneof(anyValue, fc.array(message, { maxLength: 4 })), contents: fc.oneof(anyValue, fc.array(message, { maxLength: 4 })),
    system: fc.oneof(anyValue, fc.array(part, { maxLength: 2 })), systemInstruction: anyValue, tools: fc.oneof(anyValue, fc.array(fc.oneof(anyValue, fc.record({ type: anyValue, name: anyValue, function: anyValue, input_schema: anyValue, functionDeclarations: anyValue }, { requiredKeys: [] })), { maxLength: 2 })),
    tool_choice: anyValue, toolConfig: anyValue, generationConfig: anyValue, thinking: anyValue, response_format: anyValue, stop: anyValue, stop_sequences: anyValue, metadata: anyValue, reasoning_effort: anyValue, n: anyValue, temperature: anyValue,
  },
  { requiredKeys: [] },
);

function onlyTranslationErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof TranslationError)) throw err;
    expect(err.field.length).toBeGreaterThan(0);
  }
}

describe.each(PROTOCOLS)('%s caller: any request body', (inbound) => {
  it.each(PROTOCOLS.filter((p) => p !== inbound))('to %s: translated or a TranslationError, never a crash', (provider) => {
    fc.assert(
      fc.property(fc.oneof(body, anyValue), (b) => {
        onlyTranslationErrors(() => CODECS[provider].encodeRequest(CODECS[inbound].decodeRequest(b, 'm', false), {}));
      }),
      { numRuns: 400 },
    );
  });
});

const answer = fc.record(
  {
    id: anyValue, model: anyValue, choices: fc.oneof(anyValue, fc.array(fc.record({ index: anyValue, message: fc.oneof(anyValue, message), finish_reason: anyValue }), { maxLength: 2 })), usage: anyValue,
    content: fc.oneof(anyValue, fc.array(part, { maxLength: 3 })), stop_reason: anyValue, candidates: fc.oneof(anyValue, fc.array(fc.record({ content: fc.oneof(anyValue, message), finishReason: anyValue }), { maxLength: 2 })), usageMetadata: anyValue,
  },
  { requiredKeys: [] },
);

describe.each(PROTOCOLS)('%s upstream: any answer', (provider) => {
  it.each(PROTOCOLS.filter((p) => p !== provider))('for the %s caller: translated or a TranslationError, never a crash', (caller) => {
    fc.assert(
      fc.property(fc.oneof(answer, anyValue), (a) => {
        onlyTranslationErrors(() => CODECS[caller].encodeResponse(CODECS[provider].decodeResponse(a, 'm')));
      }),
      { numRuns: 400 },
    );
  });

  it.each(PROTOCOLS.filter((p) => p !== provider))('streamed for the %s caller: any event data ends in output or one in-band error, never a throw', (caller) => {
    fc.assert(
      fc.property(fc.array(fc.oneof(answer, anyValue, fc.record({ type: fc.constantFrom('message_start', 'content_block_start', 'content_block_delta', 'message_delta', 'error'), message: anyValue, content_block: anyValue, delta: anyValue, index: anyValue, usage: anyValue, error: anyValue }, { requiredKeys: ['type'] })), { maxLength: 5 }), (events) => {
        // Through the real StreamTranslator: SSE framing of arbitrary JSON data.
        const sseText = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
        const st = new StreamTranslator(CODECS[provider].streamDecoder('m'), CODECS[caller].streamEncoder({ includeUsage: true }));
        const out = st.push(sseText) + st.end();
        expect(typeof out).toBe('string');
        expect(st.closed).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
