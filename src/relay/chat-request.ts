import type { Channel } from '../channels/registry.ts';
import { RelayError } from './respond.ts';

export interface ChatRequest {
  raw: Buffer;
  body: Record<string, any>;
  model: string;
  stream: boolean;
  /** The caller asked for the usage chunk itself; otherwise we request it upstream and drop it. */
  wantsUsage: boolean;
  /** max_completion_tokens / max_tokens (the larger if both are sent), or null. */
  maxTokens: number | null;
  /** Choices the upstream may generate: the larger of n and best_of (1 when neither is sent). */
  choices: number;
}

/** null when absent; a positive safe integer; anything else is refused (a lenient upstream might coerce it). */
function positiveInt(body: Record<string, any>, field: string): number | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (Number.isSafeInteger(v) && v >= 1) return v;
  throw new RelayError(400, 'invalid_request', `'${field}' must be a positive integer.`, 'invalid_request_error', field);
}

export function parseChatRequest(raw: Buffer): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RelayError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RelayError(400, 'invalid_request', 'The request body must be a JSON object.');
  const b = body as Record<string, any>;
  if (typeof b.model !== 'string' || b.model === '') throw new RelayError(400, 'missing_model', 'You must provide a model parameter.', 'invalid_request_error', 'model');
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    throw new RelayError(400, 'missing_messages', "'messages' must be a non-empty array.", 'invalid_request_error', 'messages');
  }
  const stream = b.stream === true;
  const maxCompletion = positiveInt(b, 'max_completion_tokens');
  const maxTokens = positiveInt(b, 'max_tokens');
  // Both sent: hold for the larger, since we cannot know which one the provider honours.
  const cap = maxCompletion === null ? maxTokens : maxTokens === null ? maxCompletion : Math.max(maxCompletion, maxTokens);
  const choices = Math.max(positiveInt(b, 'n') ?? 1, positiveInt(b, 'best_of') ?? 1);
  return { raw, body: b, model: b.model, stream, wantsUsage: stream && b.stream_options?.include_usage === true, maxTokens: cap, choices };
}

/** The body sent to one channel: the caller's bytes unless the model is renamed or usage must be requested. */
export function upstreamBody(req: ChatRequest): (channel: Channel) => Buffer | string {
  const cache = new Map<string, Buffer | string>();
  return (channel) => {
    const model = channel.modelMapping[req.model] ?? req.model;
    let out = cache.get(model);
    if (out === undefined) {
      const rewrite = model !== req.model || (req.stream && !req.wantsUsage);
      out = rewrite
        ? JSON.stringify({ ...req.body, model, ...(req.stream ? { stream_options: { ...req.body.stream_options, include_usage: true } } : {}) })
        : req.raw;
      cache.set(model, out);
    }
    return out;
  };
}
