// Inbound Gemini generateContent: POST /v1beta/models/{model}:generateContent and
// :streamGenerateContent (answered as SSE, what `?alt=sse` asks for and @google/genai sends). There
// is no `gemini` channel type yet, so every call is translated, to `openai` or `anthropic` channels,
// through the shared pipeline (hold on generationConfig.maxOutputTokens × candidateCount).
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
import type { GeminiGenerateContentRequest } from '../protocols/gemini.ts';
import { readLimited } from '../read-limited.ts';
import { RelayError, sendJson } from '../respond.ts';
import { estimatePromptTokens } from '../tokens.ts';
import { AnthropicStreamDecoder } from '../translate/anthropic-stream.ts';
import { GeminiStreamEncoder } from '../translate/gemini-stream.ts';
import { geminiToAnthropic, geminiToOpenAI, TranslationError } from '../translate/index.ts';
import { OpenAIStreamDecoder } from '../translate/openai-stream.ts';
import { callUpstream, isRefusal } from '../upstream.ts';

/** `/v1beta/models/{model}:{method}` → model and method, or null. */
export function geminiRoute(path: string): { model: string; method: string } | null {
  const m = /^\/v1beta\/models\/([^/]+):([A-Za-z]+)$/.exec(path);
  if (!m) return null;
  let model: string;
  try {
    model = decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
  return { model, method: m[2]! };
}

interface GenerateRequest {
  raw: Buffer;
  body: GeminiGenerateContentRequest;
  model: string;
  stream: boolean;
  maxTokens: number | null;
  choices: number;
}

const bad = (message: string, param: string | null = null) => new RelayError(400, 'invalid_request', message, 'invalid_request_error', param);

function positiveInt(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (Number.isSafeInteger(v) && (v as number) >= 1) return v as number;
  throw bad(`${field} must be a positive integer.`, field);
}

function parseGenerateRequest(raw: Buffer, model: string, stream: boolean): GenerateRequest {
  let b: unknown;
  try {
    b = JSON.parse(raw.toString('utf8'));
  } catch {
    throw bad('Invalid JSON payload received.');
  }
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw bad('The request body must be a JSON object.');
  const body = b as GeminiGenerateContentRequest;
  if (!Array.isArray(body.contents) || body.contents.length === 0) throw bad('contents is not specified (a non-empty array is required).', 'contents');
  const gc = body.generationConfig && typeof body.generationConfig === 'object' ? body.generationConfig : {};
  return {
    raw,
    body,
    model,
    stream,
    maxTokens: positiveInt(gc.maxOutputTokens, 'generationConfig.maxOutputTokens'),
    choices: positiveInt(gc.candidateCount, 'generationConfig.candidateCount') ?? 1,
  };
}

const servesGemini = (ch: Channel) => {
  const p = providerOf(ch).protocol;
  return p === 'openai' || p === 'anthropic';
};

export async function generateContent(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string, model: string, stream: boolean): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const g = parseGenerateRequest(await readBody(req, gw.config.MAX_BODY_BYTES), model, stream);
  const held = { model, stream, bodyBytes: g.raw.length, maxTokens: g.maxTokens, choices: g.choices, accepts: servesGemini };
  await runHeld(gw, auth, held, res, startedAt, createdAt, (channels, bill, signal) => relayGenerate(gw, g, channels, bill, res, signal));
}

const translatorOf = (ch: Channel) => (providerOf(ch).protocol === 'anthropic' ? geminiToAnthropic : geminiToOpenAI);

function upstreamBody(gw: Gateway, g: GenerateRequest, bill: RequestBill): (ch: Channel) => string {
  const cache = new Map<string, string>();
  return (ch) => {
    const model = ch.modelMapping[g.model] ?? g.model;
    const protocol = providerOf(ch).protocol;
    const k = `${protocol}\u0000${model}`;
    let out = cache.get(k);
    if (out === undefined) {
      const cap = outputCapPerChoice(g.maxTokens, bill.ctx.price.maxOutputTokens, gw.settings.current.defaultMaxOutputTokens);
      let body: Record<string, unknown>;
      try {
        body = translatorOf(ch).request(g.body as never, { model: g.model, stream: g.stream }, { defaultMaxTokens: cap }).body as Record<string, unknown>;
      } catch (err) {
        throw err instanceof TranslationError ? untranslatable(err) : err;
      }
      out = JSON.stringify({ ...body, model, ...(g.stream && protocol === 'openai' ? { stream_options: { include_usage: true } } : {}) });
      cache.set(k, out);
    }
    return out;
  };
}

async function relayGenerate(gw: Gateway, g: GenerateRequest, channels: Channel[], bill: RequestBill, res: ServerResponse, signal: AbortSignal) {
  const result = await callUpstream(channels, { ...attemptOptions(gw, signal), body: upstreamBody(gw, g, bill) });
  bill.channel = result.channel;
  bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
  const headers = { 'x-moleapi-request-id': bill.ctx.requestId };
  const promptEstimate = () => estimatePromptTokens(g.body.contents.map((c) => ({ content: c?.parts })));
  if (isRefusal(result)) {
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    sendJson(res, result.status, geminiErrorBody(result.status, `The upstream provider refused the request: ${upstreamMessage(result.body)}`), headers);
    return;
  }
  const anthropic = providerOf(result.channel).protocol === 'anthropic';
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (g.stream && contentType.includes('text/event-stream')) {
    const metered = {
      decoder: anthropic ? new AnthropicStreamDecoder() : new OpenAIStreamDecoder(),
      encoder: new GeminiStreamEncoder({ model: g.model }),
      errorEvent: () => '', // translated: the encoder writes the error
      promptEstimate,
    };
    await pipeMeteredStream(metered, result.response.body as Readable, bill, res, signal, headers);
    return;
  }
  const buf = await readLimited(result.response.body, gw.config.MAX_RESPONSE_BYTES, result.response.headers['content-length']);
  let body: any;
  let usage;
  try {
    const t = translatorOf(result.channel).response(JSON.parse(buf.toString('utf8')), { model: g.model });
    body = t.body;
    usage = t.usage;
  } catch (err) {
    const why = err instanceof TranslationError ? `cannot translate its answer: ${err.message}` : 'its answer is not JSON';
    throw new RelayError(502, 'upstream_error', `The upstream provider sent an unusable answer (${why}).`, 'upstream_error');
  }
  const text = (body?.candidates?.[0]?.content?.parts ?? []).map((p: any) => (typeof p?.text === 'string' ? p.text : p?.functionCall ? JSON.stringify(p.functionCall.args ?? {}) : '')).join('');
  await chargeMetered(bill, usage, { text, bytes: 0, complete: true, events: 1 }, promptEstimate, 200, null);
  sendJson(res, 200, body, headers);
}

/** Google's status names for an HTTP status. */
function geminiStatus(status: number): string {
  switch (status) {
    case 400:
    case 413:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 501:
      return 'UNIMPLEMENTED';
    case 502:
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return 'INTERNAL';
  }
}

export function geminiErrorBody(status: number, message: string) {
  return { error: { code: status, message, status: geminiStatus(status) } };
}
