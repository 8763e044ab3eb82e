// Answers a caller of an OpenAI surface (everything but chat) from an OpenAI channel's result, passed
// through as it came: a refusal as is (nothing charged), an SSE stream event by event, a JSON answer
// whole, and anything else (speech audio, transcripts as text/srt/vtt) piped chunk by chunk. These
// paths end in chargeMetered, the one metering function: the provider's usage where it sent one, the
// model's per-request price where one is set, else a count flagged estimated. Legacy completions
// streams share chat's framing and go through chat's byte-level tap (src/relay/stream.ts), which
// drops the usage chunk we asked for on a caller's behalf.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Gateway } from '../gateway.ts';
import type { RequestBill } from './bill.ts';
import { chargeMetered, pipeMeteredStream } from './metered-stream.ts';
import { readJsonAnswer } from './read-limited.ts';
import { drained, pipeStream } from './stream.ts';
import { SurfaceStreamDecoder } from './surface-stream.ts';
import type { RerankUsage } from './rerank-usage.ts';
import { readSurfaceUsage } from './surface-usage.ts';
import type { UpstreamRefusal, UpstreamSuccess } from './upstream.ts';

export interface SurfaceAnswer {
  /** Generated text in a JSON answer, counted when the provider sent no usage. */
  answerText: (body: any) => string;
  /** One in-band error event in this surface's stream format. */
  errorEvent: (message: string) => string;
  promptEstimate: () => Promise<number>;
  headers: Record<string, string>;
  /** Reads a JSON answer's usage where it is not in `usage` alone (rerank: Cohere's meta.billed_units). */
  usageOf?: (body: any) => RerankUsage;
  /** Streams in chat-completion framing (legacy completions) go through chat's byte-level tap instead. */
  chatFraming?: { dropUsageChunk: boolean; messages: unknown };
}

/** Most text of a non-JSON answer kept for a count; the rest is counted by its size. */
const TEXT_CHARS = 4 * 1024 * 1024;

export async function answerSurface(gw: Gateway, result: UpstreamSuccess | UpstreamRefusal, bill: RequestBill, res: ServerResponse, signal: AbortSignal, o: SurfaceAnswer): Promise<void> {
  if (!('response' in result)) {
    // The provider refused the caller's input: nothing was generated, so nothing is charged.
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    res.writeHead(result.status, { 'content-type': result.contentType, 'content-length': result.body.length, ...o.headers });
    res.end(result.body);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (contentType.includes('text/event-stream') && o.chatFraming) {
    await pipeStream(o.chatFraming.messages, result.response.body as Readable, bill, res, signal, o.chatFraming.dropUsageChunk, o.headers);
    return;
  }
  if (contentType.includes('text/event-stream')) {
    const decoder = new SurfaceStreamDecoder();
    await pipeMeteredStream({ decoder, encoder: null, errorEvent: o.errorEvent, promptEstimate: o.promptEstimate }, result.response.body as Readable, bill, res, signal, o.headers);
    if (decoder.invalidUsage) bill.warnInvalidUsage(decoder.invalidUsage);
    return;
  }
  if (contentType.includes('application/json') || contentType === '') {
    const { buf, parsed } = await readJsonAnswer(result.response, gw.config.MAX_RESPONSE_BYTES);
    const { reading, units, invalidUnits } = o.usageOf?.(parsed) ?? { reading: readSurfaceUsage(parsed?.usage), units: null, invalidUnits: null };
    if (reading.kind === 'invalid') bill.warnInvalidUsage(reading.reason);
    if (invalidUnits) bill.warnInvalidUsage(invalidUnits);
    const usage = reading.kind === 'usage' ? reading.usage : undefined;
    await chargeMetered(bill, usage, { text: o.answerText(parsed), bytes: 0, complete: true, events: 1, ...(units ? { units } : {}) }, o.promptEstimate, 200, null);
    res.writeHead(200, { 'content-type': contentType || 'application/json', 'content-length': buf.length, ...o.headers });
    res.end(buf);
    return;
  }
  await pipeBytes(result.response.body as Readable, contentType, result.response.headers['content-length'], bill, res, signal, o);
}

/** Audio or text answers: forwarded chunk by chunk; text is kept for a count, audio is not countable. */
async function pipeBytes(upstream: Readable, contentType: string, length: unknown, bill: RequestBill, res: ServerResponse, signal: AbortSignal, o: SurfaceAnswer) {
  res.writeHead(200, { 'content-type': contentType, ...(typeof length === 'string' ? { 'content-length': length } : {}), ...o.headers });
  const isText = contentType.startsWith('text/');
  const utf8 = new TextDecoder('utf-8');
  let text = '';
  let uncounted = 0;
  let bytes = 0;
  let status = 200;
  let error: string | null = null;
  try {
    for await (const chunk of upstream) {
      const b = chunk as Buffer;
      bytes += b.length;
      if (isText) {
        if (text.length < TEXT_CHARS) text += utf8.decode(b, { stream: true });
        else uncounted += b.length;
      }
      if (!res.write(b)) await drained(res, signal);
      if (signal.aborted) break;
    }
  } catch (err) {
    status = 502;
    error = `upstream answer interrupted: ${(err as Error).message}`;
    res.destroy(); // a binary answer has no in-band error: the caller sees the cut
  }
  if (signal.aborted) {
    status = 499;
    error = 'client closed the connection during the answer';
    upstream.destroy();
  }
  await chargeMetered(bill, undefined, { text, bytes: uncounted, complete: status === 200, events: bytes > 0 ? 1 : 0 }, o.promptEstimate, status, error);
  res.end();
}
