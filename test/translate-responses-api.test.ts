// The Responses API translators and the other surfaces' parsers against any input: a Responses body
// decodes (and encodes for every provider) or throws a TranslationError naming a field; any provider
// answer or stream becomes a Responses object or events ending in exactly one terminal event; usage
// readers refuse made-up numbers; a multipart body of any bytes is parsed or refused with a 400.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMultipart } from '../src/relay/multipart.ts';
import { RelayError } from '../src/relay/respond.ts';
import { readSurfaceUsage } from '../src/relay/surface-usage.ts';
import { CODECS } from '../src/relay/translate/codecs.ts';
import { TranslationError } from '../src/relay/translate/errors.ts';
import type { Protocol } from '../src/relay/translate/ir.ts';
import { decodeResponsesRequest } from '../src/relay/translate/responses-request.ts';
import { encodeResponsesResponse } from '../src/relay/translate/responses-response.ts';
import { ResponsesStreamEncoder } from '../src/relay/translate/responses-stream.ts';
import { StreamTranslator } from '../src/relay/translate/stream.ts';

const PROVIDERS: Protocol[] = ['openai', 'anthropic', 'gemini'];
const anyValue = fc.jsonValue({ maxDepth: 3 });
const item = fc.oneof(
  anyValue,
  fc.record(
    {
      type: fc.oneof(fc.constantFrom('message', 'function_call', 'function_call_output', 'reasoning', 'item_reference'), anyValue),
      role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer'), anyValue),
      content: fc.oneof(anyValue, fc.array(fc.record({ type: fc.constantFrom('input_text', 'output_text', 'input_image', 'input_file', 'refusal'), text: anyValue, image_url: anyValue, refusal: anyValue }), { maxLength: 2 })),
      call_id: fc.oneof(fc.constant('c1'), anyValue),
      name: anyValue,
      arguments: anyValue,
      output: anyValue,
    },
    { requiredKeys: [] },
  ),
);
const body = fc.record(
  {
    model: anyValue, input: fc.oneof(anyValue, fc.array(item, { maxLength: 4 })), instructions: anyValue, tools: fc.oneof(anyValue, fc.array(fc.record({ type: fc.oneof(fc.constant('function'), anyValue), name: anyValue, parameters: anyValue }), { maxLength: 2 })),
    tool_choice: anyValue, max_output_tokens: anyValue, reasoning: anyValue, text: anyValue, previous_response_id: anyValue, temperature: anyValue, stream: anyValue,
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

describe('Responses caller', () => {
  it.each(PROVIDERS)('any body to %s: translated or a TranslationError naming a field', (provider) => {
    fc.assert(
      fc.property(fc.oneof(body, anyValue), (b) => {
        onlyTranslationErrors(() => CODECS[provider].encodeRequest(decodeResponsesRequest(b as never), {}));
      }),
      { numRuns: 400 },
    );
  });

  it('a realistic turn keeps call ids, instructions first, consecutive outputs in one turn', () => {
    const req = decodeResponsesRequest({
      model: 'm',
      instructions: 'Be brief',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }, { type: 'input_image', image_url: 'https://x.example/a.png' }] },
        { type: 'function_call', call_id: 'c1', name: 'w', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'c2', name: 'w', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
        { type: 'function_call_output', call_id: 'c2', output: 'rain' },
      ],
      max_output_tokens: 100,
      reasoning: { effort: 'low' },
    });
    expect(req.system).toEqual([{ type: 'text', text: 'Be brief', at: 'instructions' }]);
    expect(req.messages.map((m) => [m.role, m.parts.map((p) => p.type)])).toEqual([
      ['user', ['text', 'image']],
      ['assistant', ['tool_call', 'tool_call']],
      ['user', ['tool_result', 'tool_result']],
    ]);
    expect(req).toMatchObject({ maxOutputTokens: 100, thinking: { enabled: true, effort: 'low' } });
  });
});

const answer = fc.record(
  { id: anyValue, model: anyValue, content: fc.oneof(anyValue, fc.array(anyValue, { maxLength: 3 })), stop_reason: anyValue, usage: anyValue, choices: anyValue, candidates: anyValue, usageMetadata: anyValue },
  { requiredKeys: [] },
);

describe.each(PROVIDERS)('%s upstream for a Responses caller', (provider) => {
  it('any answer: a response object or a TranslationError', () => {
    fc.assert(
      fc.property(fc.oneof(answer, anyValue), (a) => {
        onlyTranslationErrors(() => {
          const r = encodeResponsesResponse(CODECS[provider].decodeResponse(a, 'm'));
          expect(r.object).toBe('response');
        });
      }),
      { numRuns: 300 },
    );
  });

  it('any stream: events ending in exactly one response.completed / incomplete or error', () => {
    const event = fc.oneof(answer, anyValue, fc.record({ type: fc.constantFrom('message_start', 'content_block_start', 'content_block_delta', 'message_delta', 'message_stop', 'error'), message: anyValue, content_block: anyValue, delta: anyValue, index: anyValue, usage: anyValue }, { requiredKeys: ['type'] }));
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), (events) => {
        const st = new StreamTranslator(CODECS[provider].streamDecoder('m'), new ResponsesStreamEncoder({ model: 'm' }));
        const out = st.push(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')) + st.end();
        const terminal = out.match(/^event: (response\.completed|response\.incomplete|error)$/gm) ?? [];
        expect(terminal).toHaveLength(1);
        expect(st.closed).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('surface usage and multipart', () => {
  it('reads both namings and refuses made-up numbers', () => {
    expect(readSurfaceUsage({ input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 } })).toEqual({
      kind: 'usage',
      usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 4, cacheWriteTokens: 0, reasoningTokens: 2 },
    });
    expect(readSurfaceUsage({ prompt_tokens: 7, total_tokens: 7 })).toMatchObject({ kind: 'usage', usage: { inputTokens: 7, outputTokens: 0 } });
    expect(readSurfaceUsage({ total_tokens: 25 })).toMatchObject({ kind: 'usage', usage: { inputTokens: 25 } });
    expect(readSurfaceUsage({ type: 'duration', seconds: 3 })).toEqual({ kind: 'absent' });
    for (const bad of [{ input_tokens: 1e400 }, { input_tokens: -5 }, { prompt_tokens: 1.5 }, { input_tokens: 3, input_tokens_details: { cached_tokens: 4 } }, { input_tokens: 3, input_token_details: { audio_tokens: 9 } }, { output_tokens: 1, output_tokens_details: { reasoning_tokens: 2 } }, 'x']) {
      expect(readSurfaceUsage(bad).kind).toBe('invalid');
    }
  });

  it('any bytes as multipart: parsed or a 400, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, framed) => {
        const raw = framed ? Buffer.concat([Buffer.from('--b\r\ncontent-disposition: form-data; name="model"\r\n\r\n'), bytes, Buffer.from('\r\n--b--\r\n')]) : Buffer.from(bytes);
        try {
          parseMultipart(raw, 'multipart/form-data; boundary=b');
        } catch (err) {
          expect(err).toBeInstanceOf(RelayError);
          expect((err as RelayError).status).toBe(400);
        }
      }),
      { numRuns: 500 },
    );
  });
});
