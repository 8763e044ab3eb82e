// A translator between one inbound protocol and one provider protocol: the caller's decoder feeding
// the provider's encoder on the way up, and the reverse on the way back.
import { CODECS, type CallerStreamOptions } from './codecs.ts';
import type { ChatRequest, Protocol, TranslateOptions, Usage } from './ir.ts';
import { StreamTranslator } from './stream.ts';

export interface UpstreamRequest<B> {
  body: B;
  /** The model to call (Gemini puts it in the URL: /v1beta/models/{model}:generateContent). */
  model: string;
  /** Whether to call the streaming endpoint (Gemini: :streamGenerateContent?alt=sse). */
  stream: boolean;
  /** The intermediate form, for the hold (output cap) and logging. */
  request: ChatRequest;
}

export interface InboundContext {
  /** Gemini callers: the model and streaming come from the URL. Others: taken from the body. */
  model?: string;
  stream?: boolean;
}

export interface Translator<CallerReq, ProviderReq, ProviderRes, CallerRes> {
  readonly inbound: Protocol;
  readonly provider: Protocol;
  /** Caller's body → provider's body. Throws TranslationError (→ 400 naming the field). */
  request(body: CallerReq, ctx?: InboundContext, opts?: TranslateOptions): UpstreamRequest<ProviderReq>;
  /** Provider's JSON answer → caller's JSON answer, plus the usage the metering reads. */
  response(body: ProviderRes, ctx?: { model?: string }): { body: CallerRes; usage: Usage | undefined };
  /** A stateful translator fed the provider's SSE bytes, emitting the caller's SSE text. */
  stream(ctx?: CallerStreamOptions): StreamTranslator;
}

export function makeTranslator<CallerReq, ProviderReq, ProviderRes, CallerRes>(
  inbound: Protocol,
  provider: Protocol,
): Translator<CallerReq, ProviderReq, ProviderRes, CallerRes> {
  const from = CODECS[inbound];
  const to = CODECS[provider];
  return {
    inbound,
    provider,
    request(body, ctx = {}, opts = {}) {
      const req = from.decodeRequest(body, ctx.model ?? '', ctx.stream ?? false);
      return { body: to.encodeRequest(req, opts) as ProviderReq, model: req.model, stream: req.stream, request: req };
    },
    response(body, ctx = {}) {
      const res = to.decodeResponse(body, ctx.model ?? '');
      if (ctx.model) res.model = ctx.model;
      return { body: from.encodeResponse(res) as CallerRes, usage: res.usage };
    },
    stream(ctx = {}) {
      return new StreamTranslator(to.streamDecoder(ctx.model ?? ''), from.streamEncoder(ctx));
    },
  };
}
