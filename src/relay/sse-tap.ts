import type { TokenUsage } from '../pricing/cost.ts';
import { KeptEvents, KeptText } from './kept-bytes.ts';
import { chunkText, countTokens } from './tokens.ts';
import { readOpenAIUsage } from './usage.ts';

const LF = 10;
const CR = 13;
const USAGE_KEY = Buffer.from('"usage"');
const DATA_FIELD = Buffer.from('data:');
/**
 * Events kept as raw bytes for a count at the end; past this they are reduced to their text as they
 * pass. With TEXT_CHARS this bounds what a stream holds for a fallback count, however long it runs.
 */
export const RETAIN_BYTES = 256 * 1024;
/** Most generated text kept for counting; the rest is estimated from its UTF-8 size (4 bytes a token). */
export const TEXT_CHARS = 256 * 1024;
/** Largest single event held while waiting for its end: an upstream that never ends one cannot fill memory. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * Sits in an OpenAI SSE stream. Forwards the upstream's bytes untouched, whole events at a time (a
 * partial event waits for its end, across any number of chunks; LF, CRLF and CR line ends). Only
 * events that can carry usage (containing `"usage"`) are parsed; the usage-only chunk is dropped when
 * the caller did not ask for it (we ask upstream on its behalf). The other events are kept as bytes,
 * and tokenized only if the stream ends without usage.
 */
export class OpenAIStreamTap {
  usage: TokenUsage | null = null;
  /** Why the last usage the upstream sent was refused (it is then treated as missing), else null. */
  invalidUsage: string | null = null;
  /** Events with a data field other than [DONE]. */
  dataEvents = 0;

  private partial: Buffer[] = []; // bytes of the event in progress, from earlier chunks
  private partialBytes = 0;
  private atLineStart = true; // the last byte seen ended a line (or nothing was seen yet)
  private lastWasCR = false; // ... and it was a CR, so an LF right after belongs to the same line end
  // An event ended with the chunk on a CR: an LF starting the next chunk is its end too, forwarded or dropped with it.
  private trailingCR: 'keep' | 'drop' | null = null;

  /**
   * An upper bound of the completion tokens delivered, for the overdraft ceiling: event bytes, or,
   * once near() was called, the bytes of each event's text (every event is then parsed as it passes).
   */
  upperBytes = 0;
  private exact = false;

  // Off-heap, in pooled blocks (kept-bytes.ts): a long stream's fallback state is never promoted garbage.
  private retained = new KeptEvents();
  private reducing = false; // past RETAIN_BYTES: events are reduced to their text as they pass
  private text = new KeptText(TEXT_CHARS);
  private jsonEvents = 0;

  constructor(
    private readonly dropUsageChunk: boolean,
    private readonly maxEventBytes = MAX_EVENT_BYTES,
  ) {}

  /** Returns the bytes to forward now (whole events only), or null. */
  push(chunk: Buffer): Buffer | null {
    const out = this.pushPieces(chunk);
    return out.length === 0 ? null : out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /**
   * push() without joining: the pieces to forward now, in order (views of this and earlier chunks).
   * Writing them as they are spares a copy of nearly every read (an event cut by the read's end).
   */
  pushPieces(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    // Bytes of the event in progress from earlier chunks: they go out (or are dropped) with its end.
    let head = this.partial;
    this.partial = [];
    this.partialBytes = 0;
    let runStart = 0; // start of the part of this chunk to forward that is not in `out` yet
    let eventStart = 0; // start in this chunk of the event in progress
    let i = 0;
    if (this.trailingCR && chunk.length > 0) {
      if (chunk[0] === LF) {
        i = eventStart = 1;
        if (this.trailingCR === 'drop') runStart = 1;
        this.lastWasCR = false;
      }
      this.trailingCR = null;
    }
    const hasCR = chunk.indexOf(CR) >= 0;
    while (i < chunk.length) {
      const j = hasCR ? nextLineEnd(chunk, i) : chunk.indexOf(LF, i);
      if (j < 0) {
        this.atLineStart = false;
        this.lastWasCR = false;
        break;
      }
      if (j > i) {
        this.atLineStart = false;
        this.lastWasCR = false;
      }
      const byte = chunk[j]!;
      i = j + 1;
      if (byte === LF && this.lastWasCR) {
        this.lastWasCR = false; // the LF of a CRLF: the line already ended at the CR
        continue;
      }
      this.lastWasCR = byte === CR;
      if (!this.atLineStart) {
        this.atLineStart = true;
        continue;
      }
      // An empty line: the event ends here (with the LF of a CRLF when it is in this chunk).
      if (byte === CR && chunk[i] === LF) {
        i++;
        this.lastWasCR = false;
      }
      const own = chunk.subarray(eventStart, i);
      const keep = this.inspect(head.length ? Buffer.concat([...head, own]) : own);
      if (this.lastWasCR && i === chunk.length) this.trailingCR = keep ? 'keep' : 'drop';
      if (keep) {
        out.push(...head);
      } else {
        if (eventStart > runStart) out.push(chunk.subarray(runStart, eventStart));
        runStart = i;
      }
      head = [];
      eventStart = i;
    }
    if (eventStart > runStart) out.push(chunk.subarray(runStart, eventStart));
    if (eventStart < chunk.length || head.length) {
      this.partial = [...head, chunk.subarray(eventStart)];
      for (const b of this.partial) this.partialBytes += b.length;
      if (this.partialBytes > this.maxEventBytes) throw new Error(`an SSE event larger than ${this.maxEventBytes} bytes`);
    }
    return out;
  }

  /** Whatever is left when the upstream ends without a final blank line. */
  flush(): Buffer | null {
    if (this.partial.length === 0) return null;
    const bytes = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    return this.inspect(bytes) ? bytes : null;
  }

  /** Completion tokens of the delivered events (counted now: the stream ended without usage) and how many were JSON. */
  async completion(): Promise<{ tokens: number; events: number }> {
    this.retained.drain((ev) => this.keepText(ev));
    const tokens = (await countTokens(this.text.text)) + Math.ceil(this.text.uncountedBytes / 4);
    return { tokens, events: this.jsonEvents };
  }

  /** What the tap holds for a fallback count: raw event bytes plus kept text characters. */
  get retainedSize(): number {
    return this.retained.size + this.text.chars;
  }

  /** From now on each event's text is read as it passes (the spend ceiling is near). */
  near(): void {
    this.retained.drain((ev) => this.keepText(ev)); // in order, before the events still to come
    this.exact = true;
  }

  /** Returns the kept bytes to the pool: call once the stream is billed (the counts are gone then). */
  release(): void {
    this.retained.release();
    this.text.release();
  }

  /** Looks at one complete event; returns whether to forward it. */
  private inspect(event: Buffer): boolean {
    if (event.indexOf(DATA_FIELD) < 0) return true; // comments, keep-alives, bare line ends
    if (!this.exact) this.upperBytes += event.length;
    if (event.indexOf(USAGE_KEY) < 0) {
      if (!isDone(event)) {
        this.dataEvents++;
        if (this.exact) this.keepText(event);
        else this.retain(event);
      }
      return true;
    }
    const json = parseData(event);
    if (json === undefined) return true;
    this.dataEvents++;
    this.jsonEvents++;
    if (json && typeof json === 'object' && 'usage' in json) {
      const reading = readOpenAIUsage(json.usage);
      if (reading.kind === 'usage') {
        this.usage = reading.usage;
        this.invalidUsage = null;
      } else if (reading.kind === 'invalid') {
        this.usage = null;
        this.invalidUsage = reading.reason;
      }
    }
    this.addText(chunkText(json));
    // The usage-only chunk (valid or not) is ours to drop when the caller did not ask for usage.
    const usageOnly = json?.usage != null && Array.isArray(json.choices) && json.choices.length === 0;
    return !(usageOnly && this.dropUsageChunk);
  }

  private retain(event: Buffer): void {
    if (this.reducing) return this.keepText(event);
    if (this.retained.size + event.length <= RETAIN_BYTES) {
      this.retained.push(event); // copied: a view would pin the whole socket read it came in
      return;
    }
    // A long stream: from here on keep only the text (and past TEXT_CHARS only its size).
    this.retained.drain((ev) => this.keepText(ev));
    this.reducing = true;
    this.keepText(event);
  }

  private keepText(event: Buffer): void {
    const json = parseData(event);
    if (json === undefined) return;
    this.jsonEvents++;
    this.addText(chunkText(json));
  }

  private addText(t: string): void {
    if (!t) return;
    if (this.exact) this.upperBytes += Buffer.byteLength(t);
    this.text.add(t);
  }
}

/** Index of the next CR or LF at or after `from`, or -1. */
function nextLineEnd(b: Buffer, from: number): number {
  for (let i = from; i < b.length; i++) {
    const c = b[i];
    if (c === LF || c === CR) return i;
  }
  return -1;
}

function isDone(event: Buffer): boolean {
  return event.length < 32 && event.toString('latin1').includes('[DONE]');
}

/** The event's data (its data lines joined), parsed as JSON; undefined when absent, [DONE] or not JSON. */
export function parseData(event: Buffer): any {
  let data = '';
  let seen = false;
  for (const line of event.toString('utf8').split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    data += (seen ? '\n' : '') + line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
    seen = true;
  }
  if (!seen || data === '[DONE]') return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
