// Inbound Gemini generateContent: POST /v1beta/models/{model}:generateContent and
// :streamGenerateContent (answered as SSE, what `?alt=sse` asks for and @google/genai sends). The
// caller's bytes go as they are to `gemini` and `vertex` channels (usage from usageMetadata); other
// channels get the call translated. All through the shared pipeline (hold on
// generationConfig.maxOutputTokens × candidateCount).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { providerOf, type Channel } from '../../channels/registry.ts';
import type { Gateway } from '../../gateway.ts';
import { authorize } from '../auth.ts';
import type { RequestBill } from '../bill.ts';
import { readBody } from '../body.ts';
import { answerTranslated, translatedBodies, type Caller } from '../chat-translated.ts';
import { chargeMetered, pipeMeteredStream } from '../metered-stream.ts';
import { attemptOptions, runHeld } from '../pipeline.ts';
import type { GeminiGenerateContentRequest } from '../protocols/gemini.ts';
import { readJsonAnswer } from '../read-limited.ts';
import { RelayError } from '../respond.ts';
import { estimatePromptTokens } from '../tokens.ts';
import { decodeGeminiUsage } from '../translate/gemini-response.ts';
import { GeminiStreamDecoder } from '../translate/gemini-stream.ts';
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

export async function generateContent(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string, model: string, stream: boolean): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const g = parseGenerateRequest(await readBody(req, gw.config.MAX_BODY_BYTES), model, stream);
  const held = { model, stream, bodyBytes: g.raw.length, maxTokens: g.maxTokens, choices: g.choices };
  await runHeld(gw, auth, held, res, startedAt, createdAt, (channels, bill, signal) => relayGenerate(gw, g, channels, bill, res, signal));
}

const promptEstimate = (g: GenerateRequest) => () =>
  estimatePromptTokens([...(g.body.systemInstruction ? [{ content: g.body.systemInstruction.parts }] : []), ...g.body.contents.map((c) => ({ content: c?.parts }))]);

function translatingCaller(g: GenerateRequest): Caller {
  return {
    protocol: 'gemini',
    body: g.body,
    model: g.model,
    stream: g.stream,
    maxTokens: g.maxTokens,
    errorBody: geminiErrorBody,
    promptEstimate: promptEstimate(g),
  };
}

async function relayGenerate(gw: Gateway, g: GenerateRequest, channels: Channel[], bill: RequestBill, res: ServerResponse, signal: AbortSignal) {
  const caller = translatingCaller(g);
  // Gemini channels get the caller's bytes: the (mapped) model is in the URL, not the body.
  const body = translatedBodies(gw, caller, bill, () => g.raw);
  const result = await callUpstream(channels, { ...attemptOptions(gw, signal), body, call: { model: g.model, stream: g.stream } });
  bill.channel = result.channel;
  bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
  const headers = { 'x-moleapi-request-id': bill.ctx.requestId };
  if (providerOf(result.channel).protocol !== 'gemini') return answerTranslated(gw, caller, result, bill, res, signal, headers);
  if (isRefusal(result)) {
    // The provider refused the caller's input: nothing was generated, so nothing is charged.
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    res.writeHead(result.status, { 'content-type': result.contentType, 'content-length': result.body.length, ...headers });
    res.end(result.body);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (g.stream && contentType.includes('text/event-stream')) {
    const metered = {
      decoder: new GeminiStreamDecoder(g.model),
      encoder: null,
      errorEvent: (message: string) => `data: ${JSON.stringify(geminiErrorBody(502, message))}\r\n\r\n`,
      promptEstimate: caller.promptEstimate,
    };
    await pipeMeteredStream(metered, result.response.body as Readable, bill, res, signal, headers);
    return;
  }
  const { buf, parsed } = await readJsonAnswer(result.response, gw.config.MAX_RESPONSE_BYTES);
  await chargeMetered(bill, decodeGeminiUsage(parsed?.usageMetadata), { text: candidateText(parsed), bytes: 0, complete: true, events: 1 }, caller.promptEstimate, 200, null);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': buf.length, ...headers });
  res.end(buf);
}

/** Text of the first candidate (and function-call arguments), for a count when the provider sent no usage. */
function candidateText(body: any): string {
  const parts = body?.candidates?.[0]?.content?.parts;
  if (!Array.isArray(parts)) return '';
  return parts.map((p: any) => (typeof p?.text === 'string' ? p.text : p?.functionCall ? JSON.stringify(p.functionCall.args ?? {}) : '')).join('');
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
