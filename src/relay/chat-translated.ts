// A caller served by a channel of another protocol (any pair of OpenAI chat, Anthropic Messages and
// Gemini generateContent): the request, answer and stream go through the translators; the usage is
// the provider's own. Each inbound module keeps its same-protocol (passthrough) path and calls these
// for the rest.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { providerOf, type Channel } from '../channels/registry.ts';
import type { Gateway } from '../gateway.ts';
import { outputCapPerChoice } from '../pricing/cost.ts';
import type { RequestBill } from './bill.ts';
import { chargeMetered, pipeMeteredStream } from './metered-stream.ts';
import { readLimited } from './read-limited.ts';
import { RelayError, sendJson } from './respond.ts';
import { CODECS } from './translate/codecs.ts';
import { translatorFor, TranslationError, type Protocol } from './translate/index.ts';
import type { Part } from './translate/ir.ts';
import type { UpstreamSuccess, UpstreamRefusal } from './upstream.ts';

export const protocolOf = (ch: Channel): Protocol => providerOf(ch).protocol;
export const speaksOpenAI = (ch: Channel) => protocolOf(ch) === 'openai';

export const untranslatable = (err: TranslationError) =>
  new RelayError(400, 'untranslatable_field', `Cannot translate this request for the selected provider: ${err.message}`, 'invalid_request_error', err.field);

/** What the translating paths need to know about the caller. */
export interface Caller {
  protocol: Protocol;
  /** The caller's parsed body. */
  body: unknown;
  /** The model the caller asked for (reported back in its answer). */
  model: string;
  stream: boolean;
  /** The caller's output cap, or null (Anthropic needs one: the cap the hold was placed for). */
  maxTokens: number | null;
  /** OpenAI callers: stream_options.include_usage. */
  includeUsage?: boolean;
  /** An error body in the caller's protocol. */
  errorBody(status: number, message: string): unknown;
  promptEstimate(): Promise<number>;
}

/**
 * Bodies for a channel list: channels of the caller's protocol get `native`'s, the others the
 * translation (made once per protocol and mapped model). OpenAI and Anthropic bodies carry the model
 * and streaming; Gemini's carry neither (the URL does: callUpstream's `call`).
 */
export function translatedBodies(gw: Gateway, caller: Caller, bill: RequestBill, native: (ch: Channel) => Buffer | string): (ch: Channel) => Buffer | string {
  const cache = new Map<string, string>();
  return (ch) => {
    const protocol = protocolOf(ch);
    if (protocol === caller.protocol) return native(ch);
    const model = ch.modelMapping[caller.model] ?? caller.model;
    const k = `${protocol}\u0000${model}`;
    let out = cache.get(k);
    if (out === undefined) {
      const cap = outputCapPerChoice(caller.maxTokens, bill.ctx.price.maxOutputTokens, gw.settings.current.defaultMaxOutputTokens);
      let body: Record<string, unknown>;
      try {
        body = translatorFor(caller.protocol, protocol)!.request(caller.body as never, { model: caller.model, stream: caller.stream }, { defaultMaxTokens: cap }).body as Record<string, unknown>;
      } catch (err) {
        throw err instanceof TranslationError ? untranslatable(err) : err;
      }
      out = JSON.stringify(protocol === 'gemini' ? body : { ...body, model });
      cache.set(k, out);
    }
    return out;
  };
}

/** Answers the caller from a channel of another protocol; charges or releases the bill. */
export async function answerTranslated(gw: Gateway, caller: Caller, result: UpstreamSuccess | UpstreamRefusal, bill: RequestBill, res: ServerResponse, signal: AbortSignal, headers: Record<string, string>) {
  const provider = protocolOf(result.channel);
  if (!('response' in result)) {
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    sendJson(res, result.status, caller.errorBody(result.status, `The upstream provider refused the request: ${upstreamMessage(result.body)}`), headers);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (caller.stream && contentType.includes('text/event-stream')) {
    const metered = {
      decoder: CODECS[provider].streamDecoder(caller.model),
      encoder: CODECS[caller.protocol].streamEncoder({ model: caller.model, includeUsage: caller.includeUsage === true }),
      errorEvent: () => '', // translated: the encoder writes the error
      promptEstimate: caller.promptEstimate,
    };
    await pipeMeteredStream(metered, result.response.body as Readable, bill, res, signal, headers);
    return;
  }
  const buf = await readLimited(result.response.body, gw.config.MAX_RESPONSE_BYTES, result.response.headers['content-length']);
  let body: unknown;
  let decoded;
  try {
    decoded = CODECS[provider].decodeResponse(JSON.parse(buf.toString('utf8')), caller.model);
    decoded.model = caller.model;
    body = CODECS[caller.protocol].encodeResponse(decoded);
  } catch (err) {
    const why = err instanceof TranslationError ? `cannot translate its answer: ${err.message}` : 'its answer is not JSON';
    throw new RelayError(502, 'upstream_error', `The upstream provider sent an unusable answer (${why}).`, 'upstream_error');
  }
  await chargeMetered(bill, decoded.usage, { text: partsText(decoded.parts), bytes: 0, complete: true, events: 1 }, caller.promptEstimate, 200, null);
  sendJson(res, 200, body, headers);
}

/** Generated text of an answer (text, thinking, tool arguments), for a count when the provider sent no usage. */
export function partsText(parts: Part[]): string {
  let text = '';
  for (const p of parts) {
    if (p.type === 'text' || p.type === 'thinking') text += p.text;
    else if (p.type === 'tool_call') text += p.arguments;
  }
  return text;
}

export function upstreamMessage(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8'));
    const m = j?.error?.message ?? j?.message;
    if (typeof m === 'string') return m;
  } catch {
    /* not JSON: the raw text below */
  }
  return body.toString('utf8').slice(0, 500);
}
