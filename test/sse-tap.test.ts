// The stream tap on its own: recorded OpenAI streams split at random byte offsets (inside events, inside
// multi-byte characters, between the CR and LF of a line end) must come out byte for byte as they went
// in (minus the usage-only chunk when the caller did not ask for it), with the same usage and count.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenAIStreamTap } from '../src/relay/sse-tap.ts';

const chunkEvent = (content: string, finish: string | null = null) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":${JSON.stringify(finish)}}],"usage":null}`;
const USAGE_EVENT =
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":3}}}';
// A usage event that is not usage-only (it also carries a choice): never dropped.
const USAGE_WITH_CHOICE =
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}';

interface Piece {
  text: string;
  usageOnly: boolean;
}
const PIECES: Piece[] = [
  { text: chunkEvent('Hello'), usageOnly: false },
  { text: chunkEvent(' wörld — 你好 🐀'), usageOnly: false },
  { text: chunkEvent('line\nbreak "quoted" \\ back'), usageOnly: false },
  { text: chunkEvent('', 'stop'), usageOnly: false },
  { text: ': keep-alive comment', usageOnly: false },
  { text: 'event: message\ndata: {"choices":[{"index":0,"delta":{"content":"two-line"}}]}', usageOnly: false },
  { text: USAGE_EVENT, usageOnly: true },
  { text: USAGE_WITH_CHOICE, usageOnly: false },
  { text: 'data: [DONE]', usageOnly: false },
];

const EOLS = ['\n', '\r\n', '\r'] as const;

/** One event with the given line end inside it and after it (its blank line). */
const render = (p: Piece, eol: string) => p.text.split('\n').join(eol) + eol + eol;

function run(stream: Buffer, cuts: number[], drop: boolean) {
  const tap = new OpenAIStreamTap(drop);
  const out: Buffer[] = [];
  let prev = 0;
  for (const cut of [...cuts, stream.length]) {
    const o = tap.push(stream.subarray(prev, cut));
    if (o) out.push(Buffer.from(o)); // copy: the tap may hand back views of the input
    prev = cut;
  }
  const rest = tap.flush();
  if (rest) out.push(rest);
  return { tap, out: Buffer.concat(out) };
}

const streamArb = fc.record({
  pieces: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 }),
  eol: fc.constantFrom(...EOLS),
  drop: fc.boolean(),
  unterminatedLast: fc.boolean(),
});

describe('OpenAIStreamTap', () => {
  it('forwards the original bytes, whatever the chunk boundaries and line ends', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, fc.array(fc.nat(), { maxLength: 20 }), async (s, rawCuts) => {
        let events = s.pieces.map((p) => render(p, s.eol));
        // A stream may also end without the final blank line: that last event is still delivered.
        if (s.unterminatedLast) events[events.length - 1] = events[events.length - 1]!.slice(0, -s.eol.length * 2);
        const input = Buffer.from(events.join(''));
        const cuts = [...new Set(rawCuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const expected = Buffer.from(events.filter((_, i) => !(s.drop && s.pieces[i]!.usageOnly)).join(''));
        const { tap, out } = run(input, cuts, s.drop);
        expect(out.toString('utf8')).toBe(expected.toString('utf8'));
        expect(out.equals(expected)).toBe(true);

        // usage: the last usage event wins
        const last = [...s.pieces].reverse().find((p) => p === PIECES[6] || p === PIECES[7]);
        if (last === undefined) expect(tap.usage).toBeNull();
        else expect(tap.usage).toEqual(last === PIECES[6] ? { promptTokens: 11, completionTokens: 7, cachedTokens: 3 } : { promptTokens: 5, completionTokens: 2, cachedTokens: 0 });

        // the count at the end sees every JSON data event exactly once
        const jsonEvents = s.pieces.filter((p) => p.text.includes('data: {')).length;
        const { events: counted } = await tap.completion();
        expect(counted).toBe(jsonEvents);
      }),
      { numRuns: 400 },
    );
  });

  it('splitting at every single byte gives the same output as one chunk', () => {
    for (const eol of EOLS) {
      const input = Buffer.from(PIECES.map((p) => render(p, eol)).join(''));
      const everyByte = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
      for (const drop of [false, true]) {
        const whole = run(input, [], drop).out;
        expect(run(input, everyByte, drop).out.equals(whole)).toBe(true);
        expect(whole.length).toBe(input.length - (drop ? Buffer.byteLength(render(PIECES[6]!, eol)) : 0));
      }
    }
  });

  it('counts the delivered text only at the end, and only JSON data events', async () => {
    const input = Buffer.from(['Hello', ' world'].map((t) => render({ text: chunkEvent(t), usageOnly: false }, '\n')).join('') + 'data: not json\n\n');
    const { tap } = run(input, [7, 100], false);
    expect(tap.usage).toBeNull();
    expect(tap.dataEvents).toBe(3);
    const { tokens, events } = await tap.completion();
    expect(events).toBe(2);
    expect(tokens).toBe(2); // "Hello world" is two tokens
  });

  it('refuses absurd usage numbers and remembers why', () => {
    for (const bad of ['1e400', '1e20', '-5', '2.5', '"12"', '10000001']) {
      for (const drop of [true, false]) {
        const tap = new OpenAIStreamTap(drop);
        const event = Buffer.from(`data: {"choices":[],"usage":{"prompt_tokens":${bad},"completion_tokens":3}}\n\n`);
        const out = tap.push(event);
        expect(tap.usage, bad).toBeNull();
        expect(tap.invalidUsage, bad).toContain('prompt_tokens');
        // still the usage-only chunk: dropped when we asked for it on the caller's behalf, else passed on as is
        expect(out, bad).toEqual(drop ? null : event);
      }
    }
  });

  it('an event that never ends cannot grow past the limit: the tap refuses it', () => {
    const tap = new OpenAIStreamTap(false, 1000);
    expect(tap.push(Buffer.from('data: {"choices":[]}\n\ndata: '))?.toString()).toBe('data: {"choices":[]}\n\n');
    expect(tap.push(Buffer.from('x'.repeat(900)))).toBeNull();
    expect(() => tap.push(Buffer.from('x'.repeat(200)))).toThrow(/larger than 1000 bytes/);
  });
});
