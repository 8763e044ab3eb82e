// One codec per protocol: its decoders into and encoders out of the intermediate form.
import { decodeAnthropicRequest, encodeAnthropicRequest } from './anthropic-request.ts';
import { decodeAnthropicResponse, encodeAnthropicResponse } from './anthropic-response.ts';
import { AnthropicStreamDecoder, AnthropicStreamEncoder } from './anthropic-stream.ts';
import { decodeGeminiRequest, encodeGeminiRequest } from './gemini-request.ts';
import { decodeGeminiResponse, encodeGeminiResponse } from './gemini-response.ts';
import { GeminiStreamDecoder, GeminiStreamEncoder } from './gemini-stream.ts';
import type { ChatRequest, ChatResponse, Protocol, TranslateOptions } from './ir.ts';
import { decodeOpenAIRequest, encodeOpenAIRequest } from './openai-request.ts';
import { decodeOpenAIResponse, encodeOpenAIResponse } from './openai-response.ts';
import { OpenAIStreamDecoder, OpenAIStreamEncoder } from './openai-stream.ts';
import type { StreamDecoder, StreamEncoder } from './stream.ts';

export interface CallerStreamOptions {
  /** The model name the caller asked for, reported back in the caller's events. */
  model?: string;
  /** OpenAI callers: `stream_options.include_usage` was set. */
  includeUsage?: boolean;
}

export interface Codec {
  /** `model` and `stream` are given for Gemini, whose body carries neither. */
  decodeRequest(body: unknown, model: string, stream: boolean): ChatRequest;
  encodeRequest(req: ChatRequest, opts: TranslateOptions): unknown;
  decodeResponse(body: unknown, model: string): ChatResponse;
  encodeResponse(res: ChatResponse): unknown;
  streamDecoder(model: string): StreamDecoder;
  streamEncoder(opts: CallerStreamOptions): StreamEncoder;
}

const opt = (model: string | undefined) => (model ? { model } : {});

export const CODECS: Record<Protocol, Codec> = {
  openai: {
    decodeRequest: (body) => decodeOpenAIRequest(body as never),
    encodeRequest: (req, opts) => encodeOpenAIRequest(req, opts),
    decodeResponse: (body) => decodeOpenAIResponse(body as never),
    encodeResponse: (res) => encodeOpenAIResponse(res),
    streamDecoder: () => new OpenAIStreamDecoder(),
    streamEncoder: (o) => new OpenAIStreamEncoder({ includeUsage: o.includeUsage === true, ...opt(o.model) }),
  },
  anthropic: {
    decodeRequest: (body) => decodeAnthropicRequest(body as never),
    encodeRequest: (req, opts) => encodeAnthropicRequest(req, opts),
    decodeResponse: (body) => decodeAnthropicResponse(body as never),
    encodeResponse: (res) => encodeAnthropicResponse(res),
    streamDecoder: () => new AnthropicStreamDecoder(),
    streamEncoder: (o) => new AnthropicStreamEncoder(opt(o.model)),
  },
  gemini: {
    decodeRequest: (body, model, stream) => decodeGeminiRequest(body as never, model, stream),
    encodeRequest: (req) => encodeGeminiRequest(req),
    decodeResponse: (body, model) => decodeGeminiResponse(body as never, model),
    encodeResponse: (res) => encodeGeminiResponse(res),
    streamDecoder: (model) => new GeminiStreamDecoder(model),
    streamEncoder: (o) => new GeminiStreamEncoder(opt(o.model)),
  },
};
