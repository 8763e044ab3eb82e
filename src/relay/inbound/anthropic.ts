// Inbound Anthropic Messages: POST /v1/messages (and a local /v1/messages/count_tokens estimate).
// The caller's bytes go as they are to an `anthropic` channel; other channels (openai, azure, gemini,
// vertex) get the request, answer and stream translated (src/relay/translate). Either way the usage
// comes from the provider's own events (Anthropic message_start / message_delta, the OpenAI usage
// chunk, Gemini usageMetadata) and the request runs
// through the shared pipeline: hold on max_tokens, channel order, failover, RequestBill.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { providerOf, type Channel } from '../../channels/registry.ts';
import type { Gateway } from '../../gateway.ts';
import type { AnthropicMessagesRequest } from '../protocols/anthropic.ts';
import { authorize } from '../auth.ts';
import type { RequestBill } from '../bill.ts';
import { readBody } from '../body.ts';
import { attemptOptions, runHeld } from '../pipeline.ts';
import { readJsonAnswer } from '../read-limited.ts';
import { RelayError, sendJson } from '../respond.ts';
import { chargeMetered } from '../metered-stream.ts';
import { pipeAnthropicStream } from '../anthropic-passthrough.ts';
import { countTokens, estimatePromptTokens } from '../tokens.ts';
import { decodeAnthropicUsage } from '../translate/anthropic-response.ts';
import { callUpstream, isRefusal } from '../upstream.ts';
import { answerTranslated, translatedBodies, type Caller } from '../chat-translated.ts';

interface MessagesRequest {
  raw: Buffer;
  body: AnthropicMessagesRequest;
  model: string;
  stream: boolean;
  maxTokens: number;
}

const bad = (message: string, param: string | null = null) => new RelayError(400, 'invalid_request', message, 'invalid_request_error', param);

function parseJsonObject(raw: Buffer): Record<string, any> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw bad('The request body is not valid JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('The request body must be a JSON object.');
  return body as Record<string, any>;
}

export function parseMessagesRequest(raw: Buffer): MessagesRequest {
  const b = parseJsonObject(raw);
  if (typeof b.model !== 'string' || b.model === '') throw bad('model: Field required (a non-empty string).', 'model');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw bad('messages: Field required (a non-empty array).', 'messages');
  if (!Number.isSafeInteger(b.max_tokens) || b.max_tokens < 1) throw bad('max_tokens: Field required (a positive integer).', 'max_tokens');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw bad('stream: must be a boolean.', 'stream');
  return { raw, body: b as AnthropicMessagesRequest, model: b.model, stream: b.stream === true, maxTokens: b.max_tokens };
}

export async function messages(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const msg = parseMessagesRequest(await readBody(req, gw.config.MAX_BODY_BYTES));
  const held = { model: msg.model, stream: msg.stream, bodyBytes: msg.raw.length, maxTokens: msg.maxTokens, choices: 1 };
  // Beta features the caller opted into (Claude Code sends several) must reach Anthropic with its body.
  const beta = req.headers['anthropic-beta'];
  const callerHeaders = typeof beta === 'string' && beta ? { 'anthropic-beta': beta } : null;
  await runHeld(gw, auth, held, res, startedAt, createdAt, (channels, bill, signal) => relayMessages(gw, msg, channels, bill, res, signal, callerHeaders));
}

/** A local estimate (gpt tokenizer, not Claude's): count_tokens is free and calls no upstream. */
export async function countMessageTokens(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const b = parseJsonObject(await readBody(req, gw.config.MAX_BODY_BYTES));
  if (typeof b.model !== 'string' || b.model === '') throw bad('model: Field required (a non-empty string).', 'model');
  if (!Array.isArray(b.messages)) throw bad('messages: Field required (an array).', 'messages');
  if (!auth.allowModel(b.model)) throw new RelayError(403, 'model_not_allowed', `This API key may not use model "${b.model}".`, 'permission_error', 'model');
  const system = typeof b.system === 'string' ? [{ content: b.system }] : Array.isArray(b.system) ? [{ content: b.system }] : [];
  const tools = Array.isArray(b.tools) ? await countTokens(JSON.stringify(b.tools)) : 0;
  sendJson(res, 200, { input_tokens: (await estimatePromptTokens([...system, ...b.messages])) + tools });
}

/** The body for an Anthropic channel: the caller's bytes, or with the model renamed if mapped. */
function nativeBody(msg: MessagesRequest): (channel: Channel) => Buffer | string {
  const cache = new Map<string, Buffer | string>();
  return (channel) => {
    const model = channel.modelMapping[msg.model] ?? msg.model;
    let out = cache.get(model);
    if (out === undefined) {
      out = model === msg.model ? msg.raw : JSON.stringify({ ...msg.body, model });
      cache.set(model, out);
    }
    return out;
  };
}

function translatingCaller(msg: MessagesRequest): Caller {
  return {
    protocol: 'anthropic',
    body: msg.body,
    model: msg.model,
    stream: msg.stream,
    maxTokens: msg.maxTokens,
    errorBody: (status, message) => ({ type: 'error', error: { type: anthropicErrorType(status), message } }),
    promptEstimate: () => promptEstimate(msg),
  };
}

async function relayMessages(
  gw: Gateway,
  msg: MessagesRequest,
  channels: Channel[],
  bill: RequestBill,
  res: ServerResponse,
  signal: AbortSignal,
  callerHeaders: Record<string, string> | null,
) {
  const headers = callerHeaders ? (ch: Channel) => (providerOf(ch).protocol === 'anthropic' ? callerHeaders : null) : undefined;
  const caller = translatingCaller(msg);
  const body = translatedBodies(gw, caller, bill, nativeBody(msg));
  const result = await callUpstream(channels, { ...attemptOptions(gw, signal), body, call: { model: msg.model, stream: msg.stream }, ...(headers ? { headers } : {}) });
  bill.channel = result.channel;
  bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
  const idHeader = { 'x-moleapi-request-id': bill.ctx.requestId };
  if (providerOf(result.channel).protocol !== 'anthropic') return answerTranslated(gw, caller, result, bill, res, signal, idHeader);
  if (isRefusal(result)) {
    // The provider refused the caller's input: nothing was generated, so nothing is charged.
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    res.writeHead(result.status, { 'content-type': result.contentType, 'content-length': result.body.length, ...idHeader });
    res.end(result.body);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (msg.stream && contentType.includes('text/event-stream')) {
    const passthrough = {
      errorEvent: (message: string, kind: 'upstream' | 'quota') => anthropicErrorEvent(kind === 'quota' ? 'billing_error' : 'api_error', message),
      promptEstimate: () => promptEstimate(msg),
    };
    await pipeAnthropicStream(passthrough, result.response.body, bill, res, signal, idHeader);
    return;
  }
  const { buf, parsed } = await readJsonAnswer(result.response, gw.config.MAX_RESPONSE_BYTES);
  const usage = decodeAnthropicUsage(parsed?.usage);
  await chargeMetered(bill, usage, { text: blocksText(parsed?.content), bytes: 0, complete: true, events: 1 }, () => promptEstimate(msg), 200, null);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': buf.length, ...idHeader });
  res.end(buf);
}

const anthropicErrorEvent = (type: string, message: string) => `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`;

const promptEstimate = (msg: MessagesRequest) => estimatePromptTokens(msg.body.system ? [{ content: msg.body.system }, ...msg.body.messages] : msg.body.messages);

/** Text of Anthropic content blocks, for a count when the provider sent no usage. */
function blocksText(content: unknown): string {
  let text = '';
  if (!Array.isArray(content)) return text;
  for (const b of content) {
    if (typeof b?.text === 'string') text += b.text;
    else if (typeof b?.thinking === 'string') text += b.thinking;
    else if (b?.type === 'tool_use') text += JSON.stringify(b.input ?? {});
  }
  return text;
}

/** Anthropic's error type for an HTTP status. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return status === 413 ? 'request_too_large' : 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    case 529:
    case 503:
      return 'overloaded_error';
    default:
      return 'api_error';
  }
}

/** A RelayError in Anthropic's error shape. */
export function anthropicErrorBody(err: RelayError) {
  return { type: 'error', error: { type: anthropicErrorType(err.status), message: err.message } };
}
