// Answers read through the translators' decoders (every path except the OpenAI passthrough, which
// has its own byte-level tap): a passthrough stream of another protocol (the upstream's whole events
// forwarded, a decoder alongside only metering) or a translated one (the caller's events encoded
// from the provider's). Whatever ends the stream, what was delivered is billed.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TokenUsage } from '../pricing/cost.ts';
import type { RequestBill } from './bill.ts';
import { forwardMetered } from './sse-split.ts';
import { OVERDRAWN_LOG, OVERDRAWN_STATUS, type DeliveredSoFar } from './spend-ceiling.ts';
import { MAX_EVENT_BYTES } from './sse-tap.ts';
import { billableUsage, CountingDecoder, EventFramer, NO_OUTPUT } from './stream-meter.ts';
import { drained } from './stream.ts';
import { countTokens } from './tokens.ts';
import type { Usage } from './translate/ir.ts';
import { StreamTranslator, type StreamDecoder, type StreamEncoder } from './translate/stream.ts';

/** What an answer delivered, for billing when the provider's usage is missing or cut short. */
export interface Delivered {
  text: string;
  bytes: number;
  complete: boolean;
  events: number;
  /** Per-request units the provider billed (Cohere rerank search units); absent: one. */
  units?: number;
}

/**
 * The one metering function of every endpoint that reads the provider's usage in the common form.
 * Bills the provider's usage when it sent one. A stream cut before its end is billed at least for
 * the text delivered (Anthropic's message_start carries only a placeholder output count). No usage
 * at all: our count, flagged estimated; nothing delivered: the hold is released.
 */
/** What chargeMetered would bill for a stream that ends now, incomplete (the spend ceiling's count). */
export async function deliveredUsage(usage: Usage | undefined, d: { text: string; bytes: number }, promptEstimate: () => Promise<number>): Promise<TokenUsage> {
  const counted = (await countTokens(d.text)) + Math.ceil(d.bytes / 4);
  const b = usage ? billableUsage(usage) : null;
  if (b && typeof b !== 'string') return { ...b, completionTokens: Math.max(b.completionTokens, counted) };
  return { promptTokens: await promptEstimate(), completionTokens: counted, cachedTokens: 0 };
}

export async function chargeMetered(
  bill: RequestBill,
  usage: Usage | undefined,
  d: Delivered,
  promptEstimate: () => Promise<number>,
  status: number,
  error: string | null,
): Promise<void> {
  let billable: TokenUsage | null = null;
  if (usage) {
    const b = billableUsage(usage);
    if (typeof b === 'string') bill.warnInvalidUsage(b);
    else billable = b;
  }
  if (d.events > 0 && bill.ctx.price.perRequest !== null) {
    // A per-request price (images, audio, rerank, moderation …) does not depend on a count: nothing to
    // estimate. It is charged once, or once per unit the provider billed (rerank search units).
    const counts = billable ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
    await bill.charge(d.units ? { ...counts, units: d.units } : counts, { estimated: false, status, error });
    return;
  }
  if (billable && d.complete) {
    await bill.charge(billable, { estimated: false, status, error });
    return;
  }
  if (d.events === 0) {
    await bill.release(status === 200 ? 502 : status, error ?? 'upstream stream carried no events');
    return;
  }
  const counted = (await countTokens(d.text)) + Math.ceil(d.bytes / 4);
  if (billable) {
    await bill.charge({ ...billable, completionTokens: Math.max(billable.completionTokens, counted) }, { estimated: counted > billable.completionTokens, status, error });
    return;
  }
  await bill.charge({ promptTokens: await promptEstimate(), completionTokens: counted, cachedTokens: 0 }, { estimated: true, status, error });
}

export interface MeteredStream {
  /** The provider's stream decoder. */
  decoder: StreamDecoder;
  /** The caller's encoder; null: same protocol, the upstream's events are forwarded as they are. */
  encoder: StreamEncoder | null;
  /**
   * One in-band error event in the caller's protocol (passthrough; a translator writes its own):
   * `upstream` for a cut or early end, `quota` when the spend ceiling ended the stream.
   */
  errorEvent: (message: string, kind: 'upstream' | 'quota') => string;
  promptEstimate: () => Promise<number>;
}

export const CUT = 'The upstream provider interrupted the stream. The delivered part is billed.';
export const EARLY = 'The upstream provider interrupted the stream (it ended before the response was complete). The delivered part is billed.';

/**
 * Pipes a provider's SSE stream to the caller. A cut or an early end gets one in-band error event
 * in the caller's protocol; the caller leaving stops the upstream. Bills what was delivered.
 */
export async function pipeMeteredStream(
  m: MeteredStream,
  upstream: Readable,
  bill: RequestBill,
  res: ServerResponse,
  signal: AbortSignal,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers });
  const counter = new CountingDecoder(m.decoder, m.encoder === null);
  try {
    await pipeThroughDecoder(counter, m, upstream, bill, res, signal);
  } finally {
    counter.release();
  }
}

async function pipeThroughDecoder(counter: CountingDecoder, m: MeteredStream, upstream: Readable, bill: RequestBill, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const tr = new StreamTranslator(counter, m.encoder ?? NO_OUTPUT);
  const framer = m.encoder ? null : new EventFramer(MAX_EVENT_BYTES);
  let status = 200;
  let error: string | null = null;
  const write = async (out: string | Buffer) => {
    if (out.length && !res.write(out)) await drained(res, signal);
  };
  let prompt: Promise<number> | undefined;
  const promptEstimate = () => (prompt ??= m.promptEstimate());
  const delivered: DeliveredSoFar = {
    get upperBytes() {
      return counter.upperBytes;
    },
    usage: () => deliveredUsage(tr.usage, { text: counter.text, bytes: counter.uncountedBytes }, promptEstimate),
    knownPrompt: () => {
      const b = tr.usage ? billableUsage(tr.usage) : null;
      return b && typeof b !== 'string' ? { ...b, completionTokens: 0 } : null;
    },
  };
  const overdrawnEvent = framer ? (message: string) => m.errorEvent(message, 'quota') : (message: string) => tr.fail(message, 'insufficient_quota');
  try {
    const end = await forwardMetered(upstream, res, signal, bill.spend, delivered, { meter: tr, framer, write, overdrawnEvent });
    if (end === 'overdrawn') {
      status = OVERDRAWN_STATUS;
      error = OVERDRAWN_LOG;
    } else if (!signal.aborted) {
      const upstreamErrored = tr.closed && !tr.complete; // its own in-band error was already delivered
      const tail = tr.end(); // translated: an early end becomes an in-band error here
      if (!tr.complete) {
        status = 502;
        error = upstreamErrored ? 'upstream sent an error event' : 'upstream stream ended before the response was complete';
      }
      if (framer) {
        if (!tr.complete && !upstreamErrored) await write(m.errorEvent(EARLY, 'upstream'));
      } else {
        await write(tail);
      }
    }
  } catch (err) {
    status = 502;
    error = `upstream stream interrupted: ${(err as Error).message}`;
    bill.upstreamFailed(error);
    if (!res.destroyed && !signal.aborted) res.write(framer ? m.errorEvent(CUT, 'upstream') : tr.fail(CUT, 'api_error'));
  }
  if (signal.aborted) {
    status = 499;
    error = 'client closed the connection during the stream';
    upstream.destroy();
  }
  const d = { text: counter.text, bytes: counter.uncountedBytes, complete: tr.complete && status === 200, events: counter.events };
  await chargeMetered(bill, tr.usage, d, promptEstimate, status, error);
  res.end();
}
