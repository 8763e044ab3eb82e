// A stream translator: upstream SSE bytes in, the caller's SSE text out. The upstream side is parsed
// with eventsource-parser (partial events across chunks, CRLF, comments); a protocol decoder turns
// each event into intermediate events and a protocol encoder turns those into the caller's events.
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { TranslationError } from './errors.ts';
import type { StopReason, StreamEvent, Usage } from './ir.ts';

export interface StreamDecoder {
  /** One upstream SSE event → intermediate events. May throw TranslationError. */
  event(e: EventSourceMessage): StreamEvent[];
  /** Upstream EOF → any events held back (Gemini's finish, which has no terminal event). */
  end(): StreamEvent[];
}

export interface StreamEncoder {
  /** One intermediate event → the caller's SSE text ('' when nothing is due yet). */
  encode(e: StreamEvent): string;
}

/** Largest single upstream SSE event accepted (a Gemini chunk may carry an inline image). */
const MAX_EVENT_BYTES = 32 * 1024 * 1024;

export class StreamTranslator {
  private readonly parser: EventSourceParser;
  private readonly utf8 = new TextDecoder('utf-8');
  private pending: StreamEvent[] = [];
  private out = '';
  private finished = false;
  private errored = false;
  private _usage: Usage | undefined;
  private _stopReason: StopReason | undefined;

  constructor(
    private readonly decoder: StreamDecoder,
    private readonly encoder: StreamEncoder,
  ) {
    this.parser = createParser({
      maxBufferSize: MAX_EVENT_BYTES,
      onEvent: (e) => {
        if (this.closed) return;
        try {
          this.pending.push(...this.decoder.event(e));
        } catch (err) {
          this.pending.push(errorEvent(err));
        }
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') this.pending.push({ type: 'error', message: 'upstream sent an event larger than the gateway accepts' });
      },
    });
  }

  /** True once the caller's stream has its terminal event (complete, or an in-band error). */
  get closed(): boolean {
    return this.finished || this.errored;
  }
  /** Whether the upstream's answer completed (as opposed to an error or a cut). */
  get complete(): boolean {
    return this.finished;
  }
  /** The provider's cumulative usage so far, in the common shape the metering uses. */
  get usage(): Usage | undefined {
    return this._usage;
  }
  get stopReason(): StopReason | undefined {
    return this._stopReason;
  }

  /** Feed upstream bytes; returns the caller's SSE text to write now. */
  push(chunk: Uint8Array | string): string {
    if (this.closed) return '';
    this.parser.feed(typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true }));
    return this.drain();
  }

  /** Upstream EOF. A stream that ended before its terminal event gets an in-band error. */
  end(): string {
    if (this.closed) return '';
    const tail = this.utf8.decode();
    if (tail) this.parser.feed(tail);
    this.parser.reset({ consume: true });
    let text = this.drain();
    if (!this.closed) {
      try {
        this.pending.push(...this.decoder.end());
      } catch (err) {
        this.pending.push(errorEvent(err));
      }
      text += this.drain();
    }
    if (!this.closed) this.pending.push({ type: 'error', message: 'the upstream stream ended before the response was complete' });
    return text + this.drain();
  }

  /** End the caller's stream with an in-band error (a cut, a timeout, a spent balance). */
  fail(message: string, errorType?: string): string {
    if (this.closed) return '';
    this.pending.push({ type: 'error', message, ...(errorType ? { errorType } : {}) });
    return this.drain();
  }

  private drain(): string {
    for (let i = 0; i < this.pending.length && !this.closed; i++) {
      const e = this.pending[i]!;
      if (e.type === 'usage') this._usage = e.usage;
      else if (e.type === 'start' && e.usage) this._usage = e.usage;
      else if (e.type === 'finish') this._stopReason = e.stopReason;
      try {
        this.out += this.encoder.encode(e);
      } catch (err) {
        this.out += this.encoder.encode(errorEvent(err));
        this.errored = true;
      }
      if (e.type === 'done') this.finished = true;
      else if (e.type === 'error') this.errored = true;
    }
    this.pending = [];
    const text = this.out;
    this.out = '';
    return text;
  }
}

function errorEvent(err: unknown): StreamEvent {
  if (err instanceof TranslationError) return { type: 'error', message: `cannot translate the upstream stream: ${err.message}` };
  return { type: 'error', message: `cannot translate the upstream stream: ${err instanceof Error ? err.message : String(err)}` };
}
