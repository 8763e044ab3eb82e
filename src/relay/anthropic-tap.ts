// Meters an Anthropic Messages stream passed through as it is (the caller gets the upstream's own
// bytes). Like the OpenAI tap it scans bytes: only events that can end or bill the message
// (message_start, message_delta, message_stop, error) are parsed as they pass; the content events
// are kept as raw bytes (bounded) and read only if the count is needed (no usage, a cut, the spend
// ceiling near). The usage, completion and error semantics are the AnthropicStreamDecoder's, as the
// translators' metering applied them before.
import { KeptEvents, KeptText } from './kept-bytes.ts';
import type { AnthropicUsage } from './protocols/anthropic.ts';
import { parseData, RETAIN_BYTES, TEXT_CHARS } from './sse-tap.ts';
import { decodeAnthropicUsage } from './translate/anthropic-response.ts';
import type { Usage } from './translate/ir.ts';
import { isObject } from './translate/util.ts';

const LF = 10;
const CR = 13;
const DATA_FIELD = Buffer.from('data:');
// A message_* or error event always holds one of these; inside a JSON string a quote is escaped,
// so `"error"` cannot occur there and `"message_` only as `\"message_` (then the event is just parsed).
const MESSAGE_TYPE = Buffer.from('"message_');
const ERROR_TYPE = Buffer.from('"error"');

export class AnthropicStreamTap {
  /** The provider's cumulative usage so far, in the common shape. */
  usage: Usage | undefined;
  /** message_stop arrived: the answer is complete. */
  complete = false;
  /** The upstream sent an error event (delivered to the caller as it is). */
  errored = false;
  /** Events that carried something (message_*, error, non-empty content), as the decoder counted them. */
  events = 0;
  /**
   * An upper bound of the completion tokens delivered, for the overdraft ceiling: data event bytes,
   * or, once near() was called, the bytes of each event's text (every event is then parsed).
   */
  upperBytes = 0;

  private exact = false;
  private reducing = false; // past RETAIN_BYTES: content events are reduced to their text as they pass
  private rawUsage: Partial<AnthropicUsage> = {};
  // Off-heap, in pooled blocks (kept-bytes.ts): a long stream's fallback state is never promoted garbage.
  private retained = new KeptEvents();
  private text = new KeptText(TEXT_CHARS);

  get closed(): boolean {
    return this.complete || this.errored;
  }

  /** What the tap holds for a fallback count: raw event bytes plus kept text characters. */
  get retainedSize(): number {
    return this.retained.size + this.text.chars;
  }

  /** Whole events only (EventFramer's output). */
  push(events: Buffer): void {
    if (this.closed) return;
    if (!this.exact && events.indexOf(MESSAGE_TYPE) < 0 && events.indexOf(ERROR_TYPE) < 0) {
      // Content only (the common chunk): kept as it is, nothing parsed.
      this.upperBytes += events.length;
      this.retain(events);
      return;
    }
    forEachEvent(events, (ev) => {
      if (!this.closed) this.inspect(ev);
    });
  }

  /** From now on each event's text is read as it passes (the spend ceiling is near). */
  near(): void {
    this.reduceRetained();
    this.exact = true;
  }

  /** The delivered text (at most TEXT_CHARS) and the UTF-8 bytes of the rest, for a count. */
  delivered(): { text: string; bytes: number; events: number } {
    this.reduceRetained();
    return { text: this.text.text, bytes: this.text.uncountedBytes, events: this.events };
  }

  /** Returns the kept bytes to the pool: call once the stream is billed (the counts are gone then). */
  release(): void {
    this.retained.release();
    this.text.release();
  }

  private inspect(ev: Buffer): void {
    if (ev.indexOf(DATA_FIELD) < 0) return; // comments, bare line ends
    if (!this.exact) this.upperBytes += ev.length;
    if (ev.indexOf(MESSAGE_TYPE) < 0 && ev.indexOf(ERROR_TYPE) < 0) {
      if (this.exact) this.keepText(ev);
      else this.retain(ev);
      return;
    }
    const json = parseData(ev);
    if (!isObject(json)) return; // not JSON: the decoder skipped it too
    switch (json.type) {
      case 'message_start': {
        const m = json.message as { usage?: unknown } | undefined;
        this.rawUsage = { ...(isObject(m?.usage) ? (m.usage as Partial<AnthropicUsage>) : {}) };
        const u = decodeAnthropicUsage(this.rawUsage);
        if (u) this.usage = u;
        this.events++;
        return;
      }
      case 'message_delta': {
        const delta = isObject(json.usage) ? Object.fromEntries(Object.entries(json.usage).filter(([, v]) => v != null)) : {};
        this.rawUsage = { ...this.rawUsage, ...delta };
        this.usage = decodeAnthropicUsage(this.rawUsage);
        this.events += 2; // finish + usage
        return;
      }
      case 'message_stop':
        this.complete = true;
        this.events++;
        return;
      case 'error':
        this.errored = true;
        this.events++;
        return;
      default: // a content event that merely mentions "message_…
        if (this.exact) this.addContent(json);
        else this.retain(ev);
    }
  }

  private retain(bytes: Buffer): void {
    if (this.reducing) return this.keepText(bytes);
    if (this.retained.size + bytes.length <= RETAIN_BYTES) {
      this.retained.push(bytes); // copied: a view would pin the whole socket read it came in
      return;
    }
    // A long stream: from here on keep only the text (and past TEXT_CHARS only its size).
    this.reduceRetained();
    this.reducing = true;
    this.keepText(bytes);
  }

  private reduceRetained(): void {
    this.retained.drain((b) => this.keepText(b));
  }

  /** The text of one or more whole content events. */
  private keepText(bytes: Buffer): void {
    forEachEvent(bytes, (ev) => {
      const json = parseData(ev);
      if (isObject(json)) this.addContent(json);
    });
  }

  /** A content event's generated text (text, thinking, tool arguments), as the decoder reads it. */
  private addContent(json: Record<string, any>): void {
    if (json.type === 'content_block_start') {
      const b = json.content_block;
      if (!isObject(b)) return;
      if (b.type === 'tool_use') {
        this.events++;
        if (isObject(b.input) && Object.keys(b.input).length > 0) this.addText(JSON.stringify(b.input));
      } else if (b.type === 'text' || b.type === 'thinking') {
        const t = b.type === 'text' ? b.text : b.thinking;
        if (typeof t === 'string' && t) this.addText(t);
      } else if (b.type === 'redacted_thinking') this.events++;
    } else if (json.type === 'content_block_delta') {
      const d = json.delta;
      if (!isObject(d)) return;
      const t = d.type === 'text_delta' ? d.text : d.type === 'input_json_delta' ? d.partial_json : d.type === 'thinking_delta' ? d.thinking : undefined;
      if (typeof t === 'string' && t) this.addText(t);
      else if (d.type === 'signature_delta') this.events++;
    }
  }

  private addText(t: string): void {
    this.events++;
    if (this.exact) this.upperBytes += Buffer.byteLength(t);
    this.text.add(t);
  }
}

/** Calls `fn` with each event of whole events (ended by LF LF or LF CR LF, as EventFramer frames them). */
function forEachEvent(buf: Buffer, fn: (event: Buffer) => void): void {
  let start = 0;
  let i = 0;
  for (;;) {
    const j = buf.indexOf(LF, i);
    if (j < 0) break;
    let k = j + 1;
    if (buf[k] === LF) k++;
    else if (buf[k] === CR && buf[k + 1] === LF) k += 2;
    else {
      i = k;
      continue;
    }
    fn(buf.subarray(start, k));
    start = i = k;
  }
  if (start < buf.length) fn(buf.subarray(start));
}
