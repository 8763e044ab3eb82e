// Request round trips per protocol (fast-check): a conversation with tool calls and results encoded
// for a protocol and decoded again is the same conversation, ids and tool results included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../src/relay/translate/codecs.ts';
import type { ChatRequest, Message, Part, Protocol } from '../src/relay/translate/ir.ts';

const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.!?é☕]{0,30}$/);
const args = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 }).map((o) => JSON.stringify(o));

/** user (text, or results for every call of the previous turn) / assistant (text and/or calls), alternating. */
const conversation = (withErrors: boolean) =>
  fc.array(fc.record({ text: fc.option(word, { nil: undefined }), calls: fc.array(fc.record({ name: fc.stringMatching(/^[a-z_]{1,10}$/), args }), { maxLength: 2 }), results: fc.array(fc.record({ text: word, isError: withErrors ? fc.boolean() : fc.constant(false) }), { minLength: 2, maxLength: 2 }), userText: word }), { minLength: 1, maxLength: 4 }).map((turns) => {
    const messages: Message[] = [];
    let id = 0;
    turns.forEach((t, i) => {
      const prev = messages[messages.length - 1];
      const calls = prev?.role === 'assistant' ? prev.parts.filter((p) => p.type === 'tool_call') : [];
      messages.push({ role: 'user', parts: [...calls.map((c, k): Part => ({ type: 'tool_result', toolCallId: (c as { id: string }).id, name: (c as { name: string }).name, content: [{ type: 'text', text: t.results[k]!.text }], isError: t.results[k]!.isError })), { type: 'text', text: t.userText }] });
      if (i < turns.length - 1 || t.text || t.calls.length) {
        const parts: Part[] = [...(t.text ? [{ type: 'text' as const, text: t.text }] : []), ...t.calls.map((c): Part => ({ type: 'tool_call', id: `call_${++id}`, name: c.name, arguments: c.args }))];
        if (parts.length === 0) parts.push({ type: 'text', text: 'ok' });
        messages.push({ role: 'assistant', parts });
      }
    });
    return messages;
  });

const request = (withErrors: boolean) =>
  fc.record({ messages: conversation(withErrors), system: fc.option(word, { nil: undefined }), max: fc.integer({ min: 1, max: 100_000 }), temperature: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), stop: fc.option(fc.array(word, { minLength: 1, maxLength: 4 }), { nil: undefined }) }).map(
    (r): Omit<ChatRequest, 'source'> => ({
      model: 'm',
      system: r.system ? [{ type: 'text', text: r.system }] : [],
      messages: r.messages,
      stream: false,
      maxOutputTokens: r.max,
      ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
      ...(r.stop ? { stop: r.stop } : {}),
      tools: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } }],
    }),
  );

/** Drops where-from markers and joins consecutive turns of one role (every protocol may split or merge them). */
function normal(req: ChatRequest): unknown {
  const strip = (p: Part): Part => {
    const { at: _at, ...rest } = p as Part & { at?: string };
    if (rest.type === 'tool_result') return { ...rest, content: rest.content.map((c) => ({ type: 'text', text: (c as { text: string }).text })) } as Part;
    return rest as Part;
  };
  const messages: Array<{ role: string; parts: Part[] }> = [];
  for (const m of req.messages) {
    const last = messages[messages.length - 1];
    if (last && last.role === m.role) last.parts.push(...m.parts.map(strip));
    else messages.push({ role: m.role, parts: m.parts.map(strip) });
  }
  for (const m of messages) if (m.role === 'user') m.parts.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  return { ...req, source: undefined, system: req.system.map((p) => p.text), messages, tools: req.tools?.map(({ at: _at, ...t }) => t) };
}

describe.each<[Protocol, boolean]>([['openai', false], ['anthropic', true], ['gemini', true]])('%s request round trip', (protocol, withErrors) => {
  it('decode(encode(request)) is the same conversation, ids and tool results included', () => {
    fc.assert(
      fc.property(request(withErrors), (r) => {
        const req = { ...r, source: protocol } as ChatRequest;
        const wire = CODECS[protocol].encodeRequest(req, {});
        const back = CODECS[protocol].decodeRequest(JSON.parse(JSON.stringify(wire)), 'm', false);
        expect(normal(back)).toEqual(normal(req));
      }),
      { numRuns: 200 },
    );
  });
});
