// Splits a buffer read from an upstream SSE stream after each event's blank line, so a stream near
// its spend ceiling is metered event by event even when the provider's events arrive in one read;
// and the read loop all streamed answers share around it.
import type { DeliveredSoFar, SpendCeiling } from './spend-ceiling.ts';

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
