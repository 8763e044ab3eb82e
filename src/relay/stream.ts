import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { RequestBill } from './bill.ts';
import { OVERDRAWN, OVERDRAWN_LOG, OVERDRAWN_STATUS, type DeliveredSoFar } from './spend-ceiling.ts';
import { meterPieces } from './sse-split.ts';
import { OpenAIStreamTap } from './sse-tap.ts';
import { estimatePromptTokens } from './tokens.ts';

export function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Pipes an upstream SSE stream to the caller chunk by chunk. Whatever ends it (normal end, upstream cut,
 * caller gone, the spend ceiling passed) bills what was delivered: the provider's usage when it sent
 * one, else our count.
 */
export async function pipeStream(
  messages: unknown,
  upstream: Readable,
  bill: RequestBill,
  res: ServerResponse,
  signal: AbortSignal,
  dropUsageChunk: boolean,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers });
  const tap = new OpenAIStreamTap(dropUsageChunk);
  try {
    await pipeThroughTap(tap, messages, upstream, bill, res, signal);
  } finally {
    tap.release();
  }
}

async function pipeThroughTap(tap: OpenAIStreamTap, messages: unknown, upstream: Readable, bill: RequestBill, res: ServerResponse, signal: AbortSignal): Promise<void> {
  let status = 200;
  let error: string | null = null;
  let first = true;
  let prompt: Promise<number> | undefined;
  const promptTokens = () => (prompt ??= estimatePromptTokens(messages));
  const delivered: DeliveredSoFar = {
    get upperBytes() {
      return tap.upperBytes;
    },
    usage: async () => tap.usage ?? { promptTokens: await promptTokens(), completionTokens: (await tap.completion()).tokens, cachedTokens: 0 },
    knownPrompt: () => null,
    near: () => tap.near(),
  };
  const forward = (piece: Buffer) => {
    if (first) {
      bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
      first = false;
    }
    const out = tap.pushPieces(piece);
    if (out.length === 0) return;
    let ok = true;
    if (out.length > 1) res.cork(); // one write to the socket for the pieces of one read
    for (const b of out) ok = res.write(b);
    if (out.length > 1) res.uncork();
    if (!ok) return drained(res, signal);
  };
  try {
    const overdrawn = (await meterPieces(upstream, bill.spend, delivered, signal, forward)) === 'overdrawn';
    if (overdrawn) {
      status = OVERDRAWN_STATUS;
      error = OVERDRAWN_LOG;
      upstream.destroy();
      if (!res.destroyed) res.write(`data: ${JSON.stringify({ error: { message: OVERDRAWN, type: 'insufficient_quota', param: null, code: 'insufficient_quota' } })}\n\n`);
    } else if (!signal.aborted) {
      const rest = tap.flush();
      if (rest) res.write(rest);
    }
  } catch (err) {
    status = 502;
    error = `upstream stream interrupted: ${(err as Error).message}`;
    bill.upstreamFailed(error);
  }
  if (signal.aborted) {
    status = 499;
    error = 'client closed the connection during the stream';
    upstream.destroy();
  }
  if (status === 502 && !res.destroyed) {
    const body = { error: { message: 'The upstream provider interrupted the stream. The delivered part is billed.', type: 'upstream_error', param: null, code: 'upstream_error' } };
    res.write(`data: ${JSON.stringify(body)}\n\n`);
  }
  if (tap.usage) {
    await bill.charge(tap.usage, { estimated: false, status, error });
    res.end();
    return;
  }
  if (tap.invalidUsage) bill.warnInvalidUsage(tap.invalidUsage);
  const counted = await tap.completion();
  if (counted.events === 0) {
    await bill.release(status === 200 ? 502 : status, error ?? 'upstream stream carried no events');
  } else {
    const usage = { promptTokens: await estimatePromptTokens(messages), completionTokens: counted.tokens, cachedTokens: 0 };
    await bill.charge(usage, { estimated: true, status, error });
  }
  res.end();
}
