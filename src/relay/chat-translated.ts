// OpenAI chat completions callers served by a channel of another protocol (Anthropic so far): the
// request, answer and stream go through the translators; the usage is the provider's own.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { providerOf, type Channel } from '../channels/registry.ts';
import type { Gateway } from '../gateway.ts';
import { outputCapPerChoice } from '../pricing/cost.ts';
import type { RequestBill } from './bill.ts';
import type { ChatRequest } from './chat-request.ts';
import { chargeMetered, pipeMeteredStream } from './metered-stream.ts';
import { readLimited } from './read-limited.ts';
import { openAIErrorBody, RelayError, sendJson } from './respond.ts';
import { completionText, estimatePromptTokens } from './tokens.ts';
import { openaiToAnthropic, TranslationError } from './translate/index.ts';
import { AnthropicStreamDecoder } from './translate/anthropic-stream.ts';
import { OpenAIStreamEncoder } from './translate/openai-stream.ts';
import type { UpstreamSuccess, UpstreamRefusal } from './upstream.ts';

export const speaksOpenAI = (ch: Channel) => providerOf(ch).protocol === 'openai';
/** Channels an OpenAI chat caller can use: OpenAI (passthrough) and Anthropic (translated). */
export const servesChat = (ch: Channel) => {
  const p = providerOf(ch).protocol;
  return p === 'openai' || p === 'anthropic';
};

export const untranslatable = (err: TranslationError) =>
  new RelayError(400, 'untranslatable_field', `Cannot translate this request for the selected provider: ${err.message}`, 'invalid_request_error', err.field);

/**
 * Bodies for a channel list that mixes protocols: OpenAI channels get `passthrough`'s, the others
 * the translation (made once per mapped model). The Anthropic body's max_tokens, when the caller set
 * none, is the cap the hold was placed for.
 */
export function mixedBody(gw: Gateway, chat: ChatRequest, bill: RequestBill, passthrough: (ch: Channel) => Buffer | string): (ch: Channel) => Buffer | string {
  const cache = new Map<string, string>();
  return (ch) => {
    if (speaksOpenAI(ch)) return passthrough(ch);
    const model = ch.modelMapping[chat.model] ?? chat.model;
    let out = cache.get(model);
    if (out === undefined) {
      const cap = outputCapPerChoice(chat.maxTokens, bill.ctx.price.maxOutputTokens, gw.settings.current.defaultMaxOutputTokens);
      try {
        out = JSON.stringify({ ...openaiToAnthropic.request(chat.body as never, {}, { defaultMaxTokens: cap }).body, model });
      } catch (err) {
        throw err instanceof TranslationError ? untranslatable(err) : err;
      }
      cache.set(model, out);
    }
    return out;
  };
}

/** Answers an OpenAI chat caller from an Anthropic channel's result; charges or releases the bill. */
export async function answerFromAnthropic(gw: Gateway, chat: ChatRequest, result: UpstreamSuccess | UpstreamRefusal, bill: RequestBill, res: ServerResponse, signal: AbortSignal, headers: Record<string, string>) {
  const promptEstimate = () => estimatePromptTokens(chat.body.messages);
  if (!('response' in result)) {
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    const message = `The upstream provider refused the request: ${upstreamMessage(result.body)}`;
    sendJson(res, result.status, openAIErrorBody(new RelayError(result.status, 'upstream_refused', message)), headers);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (chat.stream && contentType.includes('text/event-stream')) {
    const metered = {
      decoder: new AnthropicStreamDecoder(),
      encoder: new OpenAIStreamEncoder({ includeUsage: chat.wantsUsage, model: chat.model }),
      errorEvent: () => '', // translated: the encoder writes the error
      promptEstimate,
    };
    await pipeMeteredStream(metered, result.response.body as Readable, bill, res, signal, headers);
    return;
  }
  const buf = await readLimited(result.response.body, gw.config.MAX_RESPONSE_BYTES, result.response.headers['content-length']);
  let body: unknown;
  let usage;
  try {
    const t = openaiToAnthropic.response(JSON.parse(buf.toString('utf8')), { model: chat.model });
    body = t.body;
    usage = t.usage;
  } catch (err) {
    const why = err instanceof TranslationError ? `cannot translate its answer: ${err.message}` : 'its answer is not JSON';
    throw new RelayError(502, 'upstream_error', `The upstream provider sent an unusable answer (${why}).`, 'upstream_error');
  }
  await chargeMetered(bill, usage, { text: completionText(body), bytes: 0, complete: true, events: 1 }, promptEstimate, 200, null);
  sendJson(res, 200, body, headers);
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
