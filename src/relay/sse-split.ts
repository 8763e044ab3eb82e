// Splits a buffer read from an upstream SSE stream after each event's blank line, so a stream near
// its spend ceiling is metered event by event even when the provider's events arrive in one read;
// and the read loop all streamed answers share around it.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { OVERDRAWN, type DeliveredSoFar, type SpendCeiling } from './spend-ceiling.ts';
import type { EventFramer } from './stream-meter.ts';

const LF = 0x0a;
const CR = 0x0d;

/** The buffer cut after every event end (`\n\n` or `\n\r\n`); the last piece may be a partial event. */
export function eventSlices(buf: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(LF); i !== -1 && i < buf.length - 1; i = buf.indexOf(LF, i + 1)) {
    let end = -1;
    if (buf[i + 1] === LF) end = i + 2;
    else if (buf[i + 1] === CR && buf[i + 2] === LF) end = i + 3;
    if (end === -1) continue;
    pieces.push(buf.subarray(start, end));
    start = end;
    i = end - 1;
  }
  if (start < buf.length) pieces.push(buf.subarray(start));
  return pieces;
}

/** How meterPieces ended: the upstream ended, the caller left, or the stream passed its spend ceiling. */
export type PiecesEnd = 'end' | 'aborted' | 'overdrawn';

/**
 * The read loop of every streamed answer: each upstream read goes to `forward` (which writes it and
 * waits for the caller's socket to drain, so a slow caller pauses the upstream), then the spend
 * ceiling is checked. A read that could pass the ceiling is forwarded event by event, so the
 * overdraft stays within one event however many the provider packed into one read. `closed`: the
 * answer is over (its last event or an error passed), the ceiling no longer applies.
 */
export async function meterPieces(
  upstream: AsyncIterable<unknown>,
  spend: SpendCeiling | null,
  delivered: DeliveredSoFar,
  signal: AbortSignal,
  forward: (piece: Buffer) => Promise<void> | void,
  closed: () => boolean = () => false,
): Promise<PiecesEnd> {
  for await (const chunk of upstream) {
    const buf = chunk as Buffer;
    for (const piece of spend?.mayPass(delivered, buf.length) ? eventSlices(buf) : [buf]) {
      const wrote = forward(piece);
      if (wrote) await wrote;
      if (signal.aborted) return 'aborted';
      if (spend && !closed() && (await spend.passed(delivered))) return 'overdrawn';
    }
  }
  return signal.aborted ? 'aborted' : 'end';
}

/** What meters a piped stream: a byte-level tap, or a translator (whose push returns the caller's bytes). */
export interface PieceMeter {
  push(piece: Buffer): string | void;
  /** The answer is over (its last event or an error passed): the spend ceiling no longer applies. */
  readonly closed: boolean;
}

export interface MeteredForward {
  meter: PieceMeter;
  /**
   * Set: the reads are cut into whole events, each pushed to the meter and then written as it is
   * (a passthrough). Null: each read goes to the meter and what it returns is written (a translator).
   */
  framer: EventFramer | null;
  /** Writes to the caller, waiting for its socket to drain (an empty write does nothing). */
  write: (out: string | Buffer) => Promise<void>;
  /** The in-band error event in the caller's protocol that ends a stream at its spend ceiling. */
  overdrawnEvent: (message: string) => string;
}

/**
 * meterPieces for the streams that pass through a meter (the Anthropic tap, the decoders): forwards
 * each read, and when the spend ceiling ends the stream, stops the upstream and tells the caller
 * in-band. The caller records the status and error of each end.
 */
export async function forwardMetered(
  upstream: Readable,
  res: ServerResponse,
  signal: AbortSignal,
  spend: SpendCeiling | null,
  delivered: DeliveredSoFar,
  f: MeteredForward,
): Promise<PiecesEnd> {
  const { meter, framer, write } = f;
  const forward = framer
    ? (piece: Buffer) => {
        const whole = framer.push(piece);
        if (!whole) return;
        meter.push(whole);
        return write(whole);
      }
    : (piece: Buffer) => write(meter.push(piece) || '');
  const end = await meterPieces(upstream, spend, delivered, signal, forward, () => meter.closed);
  if (end === 'overdrawn') {
    upstream.destroy();
    if (!res.destroyed) await write(f.overdrawnEvent(OVERDRAWN));
  }
  return end;
}
