// Inbound OpenAI Responses API: POST /v1/responses, streaming or not. An `openai` channel gets the
// caller's bytes as they are (Codex CLI, previous_response_id, hosted tools and reasoning items all
// survive); a chat-only channel (Anthropic) gets the request translated through the intermediate
// form (text, instructions, images, function tools and calls, reasoning effort, JSON output), and
// its answer or stream translated back into Responses objects and events. What has no equivalent
// there is a 400 naming the field. The usage is the provider's own either way.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { providerOf, type Channel } from '../../channels/registry.ts';
import type { Gateway } from '../../gateway.ts';
import { outputCapPerChoice } from '../../pricing/cost.ts';
import { authorize } from '../auth.ts';
import type { RequestBill } from '../bill.ts';
import { readBody } from '../body.ts';
import { untranslatable, upstreamMessage } from '../chat-translated.ts';
import { chargeMetered, pipeMeteredStream } from '../metered-stream.ts';
import { attemptOptions, runHeld } from '../pipeline.ts';
import { readLimited } from '../read-limited.ts';
import { openAIErrorBody, RelayError, sendJson } from '../respond.ts';
import { answerSurface } from '../surface-answer.ts';
import { estimatePromptTokens } from '../tokens.ts';
import { CODECS } from '../translate/codecs.ts';
import { TranslationError } from '../translate/errors.ts';
import type { ChatRequest as IRRequest } from '../translate/ir.ts';
import { decodeResponsesRequest } from '../translate/responses-request.ts';
import { encodeResponsesResponse } from '../translate/responses-response.ts';
import { ResponsesStreamEncoder } from '../translate/responses-stream.ts';
import { callUpstream, type UpstreamRefusal, type UpstreamSuccess } from '../upstream.ts';

interface ResponsesRequest {
  raw: Buffer;
  body: Record<string, any>;
  model: string;
  stream: boolean;
  maxTokens: number | null;
}

const bad = (message: string, param: string) => new RelayError(400, 'invalid_request', message, 'invalid_request_error', param);

export function parseResponsesRequest(raw: Buffer): ResponsesRequest {
  let b: unknown;
  try {
    b = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RelayError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new RelayError(400, 'invalid_request', 'The request body must be a JSON object.');
  const body = b as Record<string, any>;
  if (typeof body.model !== 'string' || body.model === '') throw bad("'model' is required (a non-empty string).", 'model');
  if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) throw bad("'input' must be a string or an array of input items.", 'input');
  if (body.instructions != null && typeof body.instructions !== 'string') throw bad("'instructions' must be a string.", 'instructions');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad("'stream' must be a boolean.", 'stream');
  if (body.tools != null && !Array.isArray(body.tools)) throw bad("'tools' must be an array.", 'tools');
  const max = body.max_output_tokens;
  if (max != null && !(Number.isSafeInteger(max) && max >= 1)) throw bad("'max_output_tokens' must be a positive integer.", 'max_output_tokens');
  return { raw, body, model: body.model, stream: body.stream === true, maxTokens: max ?? null };
}

const protocolOf = (ch: Channel) => providerOf(ch).protocol;
// Passed through to OpenAI itself and OpenAI-compatible vendors (`openai` channels); every other type
// gets the request translated into its chat protocol (Anthropic Messages, Gemini generateContent, or
// OpenAI chat completions for Azure, whose Responses endpoint is not wired).
const passesResponses = (ch: Channel) => ch.type === 'openai';

const errorEvent = (message: string) => `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'upstream_error', message, param: null, sequence_number: 0 })}\n\n`;

export async function responses(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const r = parseResponsesRequest(await readBody(req, gw.config.MAX_BODY_BYTES));
  const held = { model: r.model, stream: r.stream, bodyBytes: r.raw.length, maxTokens: r.maxTokens, choices: 1 };
  await runHeld(gw, auth, held, res, startedAt, createdAt, (channels, bill, signal) => relayResponses(gw, r, channels, bill, res, signal));
}

async function relayResponses(gw: Gateway, r: ResponsesRequest, channels: Channel[], bill: RequestBill, res: ServerResponse, signal: AbortSignal) {
  let ir: IRRequest | undefined;
  const cache = new Map<string, Buffer | string>();
  const body = (ch: Channel) => {
    const model = ch.modelMapping[r.model] ?? r.model;
    const p = protocolOf(ch);
    const k = `${passesResponses(ch) ? 'responses' : p}>${model}`;
    let out = cache.get(k);
    if (out !== undefined) return out;
    if (passesResponses(ch)) {
      out = model === r.model ? r.raw : JSON.stringify({ ...r.body, model });
    } else {
      try {
        ir ??= decodeResponsesRequest(r.body);
        const cap = outputCapPerChoice(r.maxTokens, bill.ctx.price.maxOutputTokens, gw.settings.current.defaultMaxOutputTokens);
        const encoded = CODECS[p].encodeRequest(ir, { defaultMaxTokens: cap }) as object;
        // A Gemini-wire upstream takes the model (and streaming) in the URL: callUpstream's `call`.
        out = JSON.stringify(p === 'gemini' ? encoded : { ...encoded, model });
      } catch (err) {
        throw err instanceof TranslationError ? untranslatable(err) : err;
      }
    }
    cache.set(k, out);
    return out;
  };
  const result = await callUpstream(channels, { ...attemptOptions(gw, signal), path: (ch) => (passesResponses(ch) ? '/responses' : undefined), body, call: { model: r.model, stream: r.stream } });
  bill.channel = result.channel;
  bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
  const headers = { 'x-moleapi-request-id': bill.ctx.requestId };
  const promptEstimate = () => estimatePromptTokens(promptMessages(r.body));
  if (passesResponses(result.channel)) {
    await answerSurface(gw, result, bill, res, signal, { answerText: outputText, errorEvent, promptEstimate, headers });
    return;
  }
  await answerTranslated(gw, r, result, bill, res, signal, headers, promptEstimate);
}

async function answerTranslated(
  gw: Gateway,
  r: ResponsesRequest,
  result: UpstreamSuccess | UpstreamRefusal,
  bill: RequestBill,
  res: ServerResponse,
  signal: AbortSignal,
  headers: Record<string, string>,
  promptEstimate: () => Promise<number>,
) {
  const codec = CODECS[protocolOf(result.channel)];
  if (!('response' in result)) {
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    const message = `The upstream provider refused the request: ${upstreamMessage(result.body)}`;
    sendJson(res, result.status, openAIErrorBody(new RelayError(result.status, 'upstream_refused', message)), headers);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (r.stream && contentType.includes('text/event-stream')) {
    const metered = { decoder: codec.streamDecoder(r.model), encoder: new ResponsesStreamEncoder({ model: r.model }), errorEvent: () => '', promptEstimate };
    await pipeMeteredStream(metered, result.response.body as Readable, bill, res, signal, headers);
    return;
  }
  const buf = await readLimited(result.response.body, gw.config.MAX_RESPONSE_BYTES, result.response.headers['content-length']);
  let answer;
  try {
    const decoded = codec.decodeResponse(JSON.parse(buf.toString('utf8')), r.model);
    decoded.model = r.model;
    answer = { body: encodeResponsesResponse(decoded), usage: decoded.usage };
  } catch (err) {
    const why = err instanceof TranslationError ? `cannot translate its answer: ${err.message}` : 'its answer is not JSON';
    throw new RelayError(502, 'upstream_error', `The upstream provider sent an unusable answer (${why}).`, 'upstream_error');
  }
  await chargeMetered(bill, answer.usage, { text: outputText(answer.body), bytes: 0, complete: true, events: 1 }, promptEstimate, 200, null);
  sendJson(res, 200, answer.body, headers);
}

/** The prompt as chat-like messages, for an estimate: instructions, then each input item's text. */
function promptMessages(body: Record<string, any>): unknown[] {
  const items = typeof body.input === 'string' ? [{ content: body.input }] : Array.isArray(body.input) ? body.input : [];
  return typeof body.instructions === 'string' ? [{ content: body.instructions }, ...items] : items;
}

/** Generated text of a Responses answer: output_text parts, function call arguments, reasoning summaries. */
function outputText(body: any): string {
  let text = '';
  for (const item of Array.isArray(body?.output) ? body.output : []) {
    if (typeof item?.arguments === 'string') text += item.arguments;
    for (const part of Array.isArray(item?.content) ? item.content : []) if (typeof part?.text === 'string') text += part.text;
    for (const part of Array.isArray(item?.summary) ? item.summary : []) if (typeof part?.text === 'string') text += part.text;
  }
  return text;
}

