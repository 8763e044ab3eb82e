// An Anthropic Messages stream from an `anthropic` channel, passed through to an Anthropic caller:
// the upstream's whole events are forwarded as they are while AnthropicStreamTap meters them at the
// byte level. A cut or an early end gets one in-band error event; the caller leaving stops the
// upstream. Whatever ends the stream, what was delivered is billed (chargeMetered).
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { AnthropicStreamTap } from './anthropic-tap.ts';
import type { RequestBill } from './bill.ts';
import { chargeMetered, CUT, deliveredUsage, EARLY } from './metered-stream.ts';
import { forwardMetered } from './sse-split.ts';
import { OVERDRAWN_LOG, OVERDRAWN_STATUS, type DeliveredSoFar } from './spend-ceiling.ts';
import { MAX_EVENT_BYTES } from './sse-tap.ts';
import { billableUsage, EventFramer } from './stream-meter.ts';
import { drained } from './stream.ts';

export interface AnthropicPassthrough {
  /** One in-band Anthropic error event: `upstream` for a cut or early end, `quota` at the spend ceiling. */
  errorEvent: (message: string, kind: 'upstream' | 'quota') => string;
  promptEstimate: () => Promise<number>;
}

export async function pipeAnthropicStream(
  m: AnthropicPassthrough,
  upstream: Readable,
  bill: RequestBill,
  res: ServerResponse,
  signal: AbortSignal,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers });
  const tap = new AnthropicStreamTap();
  try {
    await pipeThroughTap(tap, m, upstream, bill, res, signal);
  } finally {
    tap.release();
  }
}

async function pipeThroughTap(tap: AnthropicStreamTap, m: AnthropicPassthrough, upstream: Readable, bill: RequestBill, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const framer = new EventFramer(MAX_EVENT_BYTES);
  let status = 200;
  let error: string | null = null;
  const write = async (out: string | Buffer) => {
    if (out.length && !res.write(out)) await drained(res, signal);
  };
  let prompt: Promise<number> | undefined;
  const promptEstimate = () => (prompt ??= m.promptEstimate());
  const delivered: DeliveredSoFar = {
    get upperBytes() {
      return tap.upperBytes;
    },
    usage: () => deliveredUsage(tap.usage, tap.delivered(), promptEstimate),
    knownPrompt: () => {
      const b = tap.usage ? billableUsage(tap.usage) : null;
      return b && typeof b !== 'string' ? { ...b, completionTokens: 0 } : null;
    },
    near: () => tap.near(),
  };
  try {
    const end = await forwardMetered(upstream, res, signal, bill.spend, delivered, { meter: tap, framer, write, overdrawnEvent: (message) => m.errorEvent(message, 'quota') });
    if (end === 'overdrawn') {
      status = OVERDRAWN_STATUS;
      error = OVERDRAWN_LOG;
    } else if (!signal.aborted && !tap.complete) {
      status = 502;
      // An upstream error event was already delivered as it is; an early end gets ours.
      error = tap.errored ? 'upstream sent an error event' : 'upstream stream ended before the response was complete';
      if (!tap.errored) await write(m.errorEvent(EARLY, 'upstream'));
    }
  } catch (err) {
    status = 502;
    error = `upstream stream interrupted: ${(err as Error).message}`;
    bill.upstreamFailed(error);
    if (!res.destroyed && !signal.aborted) res.write(m.errorEvent(CUT, 'upstream'));
  }
  if (signal.aborted) {
    status = 499;
    error = 'client closed the connection during the stream';
    upstream.destroy();
  }
  const complete = tap.complete && status === 200;
  // The usual end (complete, with usage): the bill needs no count, so the kept events are never parsed.
  const exact = complete && tap.usage !== undefined && typeof billableUsage(tap.usage) !== 'string';
  const d = { ...(exact ? { text: '', bytes: 0, events: tap.events } : tap.delivered()), complete };
  await chargeMetered(bill, tap.usage, d, promptEstimate, status, error);
  res.end();
}
