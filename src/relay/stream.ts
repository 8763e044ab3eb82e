import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { RequestBill } from './bill.ts';
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
 * caller gone) bills what was delivered: the provider's usage when it sent one, else our count.
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
  let status = 200;
  let error: string | null = null;
  let first = true;
  try {
    for await (const chunk of upstream) {
      if (first) {
        bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
        first = false;
      }
      const out = tap.push(chunk as Buffer);
      if (out && !res.write(out)) await drained(res, signal);
      if (signal.aborted) break;
    }
    if (!signal.aborted) {
      const rest = tap.flush();
      if (rest) res.write(rest);
    }
  } catch (err) {
    status = 502;
    error = `upstream stream interrupted: ${(err as Error).message}`;
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
  const delivered = await tap.completion();
  if (delivered.events === 0) {
    await bill.release(status === 200 ? 502 : status, error ?? 'upstream stream carried no events');
  } else {
    const usage = { promptTokens: await estimatePromptTokens(messages), completionTokens: delivered.tokens, cachedTokens: 0 };
    await bill.charge(usage, { estimated: true, status, error });
  }
  res.end();
}
