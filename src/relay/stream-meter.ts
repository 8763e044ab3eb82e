// Metering helpers for the paths that read a provider's stream through the translators' decoders:
// the common Usage → the TokenUsage the price table bills, and a decoder wrapper that keeps the
// delivered text so a stream without usage (or cut before its final usage) is billed on a count.
import type { EventSourceMessage } from 'eventsource-parser';
import type { TokenUsage } from '../pricing/cost.ts';
import { TranslationError } from './translate/errors.ts';
import type { Usage } from './translate/ir.ts';
import type { StreamDecoder, StreamEncoder } from './translate/stream.ts';
import { KeptText } from './kept-bytes.ts';
import { TEXT_CHARS } from './sse-tap.ts';
import { MAX_USAGE_TOKENS } from './usage.ts';
import { nonZero } from './translate/util.ts';

/**
 * The billable form of a provider's usage, or a reason to refuse it. Usage.inputTokens includes
 * cache writes; TokenUsage bills them on top of promptTokens, so they are taken out of it.
 */
export function billableUsage(u: Usage): TokenUsage | string {
  if (u.inputTokens + u.outputTokens > MAX_USAGE_TOKENS) return `${u.inputTokens + u.outputTokens} tokens > ${MAX_USAGE_TOKENS}`;
  if (u.cachedInputTokens + u.cacheWriteTokens > u.inputTokens) return 'cached tokens exceed input tokens';
  const parts = nonZero({ audioInputTokens: u.audioInputTokens ?? 0, imageInputTokens: u.imageInputTokens ?? 0, audioOutputTokens: u.audioOutputTokens ?? 0, imageOutputTokens: u.imageOutputTokens ?? 0 });
  return { promptTokens: u.inputTokens - u.cacheWriteTokens, completionTokens: u.outputTokens, cachedTokens: u.cachedInputTokens, cacheWriteTokens: u.cacheWriteTokens, ...parts };
}

/** Wraps a provider's stream decoder, keeping the generated text (text, thinking, tool arguments). */
export class CountingDecoder implements StreamDecoder {
  // Off-heap, in pooled blocks (kept-bytes.ts): a long stream's kept text is never promoted garbage.
  private kept = new KeptText(TEXT_CHARS);
  /** UTF-8 bytes of all the generated text: never fewer than its tokens (the spend ceiling's cheap bound). */
  upperBytes = 0;
  /** Intermediate events decoded so far (0: nothing was delivered). */
  events = 0;

  /**
   * `lenient`: the decoder only meters a passthrough stream, so what it cannot express in the common
   * form (Anthropic server-tool blocks, …) is skipped instead of ending the stream.
   */
  constructor(
    private readonly inner: StreamDecoder,
    private readonly lenient = false,
  ) {}

  event(e: EventSourceMessage) {
    let out;
    try {
      out = this.inner.event(e);
    } catch (err) {
      if (this.lenient && err instanceof TranslationError) return [];
      throw err;
    }
    this.events += out.length;
    for (const ev of out) {
      if (ev.type === 'text' || ev.type === 'thinking') this.add(ev.text);
      else if (ev.type === 'tool_call_delta') this.add(ev.arguments);
    }
    return out;
  }

  end() {
    return this.inner.end();
  }

  /** The generated text kept (at most TEXT_CHARS characters). */
  get text(): string {
    return this.kept.text;
  }

  /** UTF-8 bytes of the generated text past TEXT_CHARS. */
  get uncountedBytes(): number {
    return this.kept.uncountedBytes;
  }

  /** Returns the kept text to the pool: call once the stream is billed. */
  release(): void {
    this.kept.release();
  }

  private add(t: string): void {
    this.upperBytes += Buffer.byteLength(t);
    this.kept.add(t);
  }
}

/** For a passthrough stream: the decoder only meters, the caller gets the upstream's own bytes. */
export const NO_OUTPUT: StreamEncoder = { encode: () => '' };

const LF = 10;

/**
 * Forwards whole SSE events only (up to the last blank line seen), so an in-band error written
 * after a cut never lands inside a half-sent event.
 */
export class EventFramer {
  private pending: Buffer | null = null;

  constructor(private readonly maxEventBytes: number) {}

  push(chunk: Buffer): Buffer | null {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = lastEventEnd(buf);
    if (end === 0) {
      if (buf.length > this.maxEventBytes) throw new Error(`an SSE event larger than ${this.maxEventBytes} bytes`);
      this.pending = buf;
      return null;
    }
    this.pending = end < buf.length ? buf.subarray(end) : null;
    return end === buf.length ? buf : buf.subarray(0, end);
  }
}

/** Offset just past the last blank line (LF LF or LF CR LF), or 0. */
function lastEventEnd(b: Buffer): number {
  for (let i = b.length - 1; i > 0; i--) {
    if (b[i] !== LF) continue;
    if (b[i - 1] === LF) return i + 1;
    if (b[i - 1] === 13 && i >= 2 && b[i - 2] === LF) return i + 1;
  }
  return 0;
}
