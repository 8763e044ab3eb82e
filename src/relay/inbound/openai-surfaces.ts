// Inbound OpenAI surfaces besides chat and responses: /v1/completions, /v1/embeddings,
// /v1/images/generations and /edits, /v1/audio/speech, /v1/audio/transcriptions, /v1/moderations and
// /v1/rerank. Each is passed through to `openai` channels (the caller's bytes, the model renamed if
// mapped) through the shared pipeline, and metered by chargeMetered (src/relay/surface-answer.ts).
// Embeddings with text input also go to `vertex` channels, translated to `:predict` (vertex-embeddings.ts).
// A surface only says how to check its body, where the upstream endpoint is, and what its answer's
// generated text is.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { providerOf, type Channel } from '../../channels/registry.ts';
import type { Gateway } from '../../gateway.ts';
import { authorize } from '../auth.ts';
import { readBody } from '../body.ts';
import { parseMultipart, withField } from '../multipart.ts';
import { heldSearchUnits, readRerankUsage, type RerankUsage } from '../rerank-usage.ts';
import { attemptOptions, runHeld } from '../pipeline.ts';
import { openAIErrorBody, RelayError, sendJson } from '../respond.ts';
import { answerSurface } from '../surface-answer.ts';
import { countTokens } from '../tokens.ts';
import { callUpstream } from '../upstream.ts';
import { answerVertexEmbeddings, openAIEmbeddings, predictBody, vertexPredictPath, type EmbedInstance } from '../vertex-embeddings.ts';

/** What a surface's checks found in the caller's body. */
export interface SurfaceRequest {
  model: string;
  stream: boolean;
  /** Output tokens to hold for: the caller's cap, null for the default cap, 0 when the surface generates none. */
  maxTokens: number | null;
  choices: number;
  /** The prompt's text, for an estimate when the provider reports no usage. */
  promptText: string;
  /** Fields to set in the body sent upstream (usage asked for on the caller's behalf). */
  extra?: Record<string, unknown>;
  /** The stream is in chat-completion framing (legacy completions): chat's byte-level tap meters it. */
  chatFraming?: { dropUsageChunk: boolean };
  /** Per-request units to hold for (rerank search units); absent: one. */
  units?: number;
}

export interface Surface {
  /** The upstream path after the channel's base URL (/v1 for a bare origin). */
  path: string;
  multipart: boolean;
  /** Checks the body (text fields and file names for multipart); throws a 400 naming the field. */
  parse(body: Record<string, unknown>, files: Set<string>): SurfaceRequest;
  answerText: (body: any) => string;
  /** Reads a JSON answer's usage where it is not in `usage` alone. */
  usageOf?: (body: any) => RerankUsage;
  /** Stream error events as this surface's stream format writes them. */
  errorEvent: (message: string) => string;
  /** The call as Vertex AI's `:predict` takes it (embeddings), or null when the input has no such form (token arrays). */
  vertex?: (body: Record<string, unknown>) => VertexEmbedInput | null;
}

interface VertexEmbedInput {
  instances: EmbedInstance[];
  dimensions: number | undefined;
  base64: boolean;
}

const bad = (message: string, param: string) => new RelayError(400, 'invalid_request', message, 'invalid_request_error', param);

const need = (b: Record<string, unknown>, field: string): string => {
  const v = b[field];
  if (typeof v !== 'string' || v === '') throw bad(`'${field}' is required (a non-empty string).`, field);
  return v;
};
const positive = (b: Record<string, unknown>, field: string): number | null => {
  const v = b[field];
  if (v === undefined || v === null) return null;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v; // multipart sends numbers as text
  if (Number.isSafeInteger(n) && (n as number) >= 1) return n as number;
  throw bad(`'${field}' must be a positive integer.`, field);
};
const flag = (b: Record<string, unknown>, field: string): boolean => {
  const v = b[field];
  if (v === undefined || v === null || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw bad(`'${field}' must be a boolean.`, field);
};
/** A string, or a non-empty array of strings / token arrays / multimodal parts (embeddings, moderations, completions). */
const textInput = (b: Record<string, unknown>, field: string): string => {
  const v = b[field];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0) return v.map((x) => (typeof x === 'string' ? x : typeof x?.text === 'string' ? x.text : '')).join('\n');
  throw bad(`'${field}' is required (a string or a non-empty array).`, field);
};
const noOutput = (model: string, promptText: string): SurfaceRequest => ({ model, stream: false, maxTokens: 0, choices: 1, promptText });

const dataError = (message: string) => `data: ${JSON.stringify({ error: { message, type: 'upstream_error', param: null, code: 'upstream_error' } })}\n\n`;
const typedError = (message: string) => `data: ${JSON.stringify({ type: 'error', error: { message, type: 'upstream_error', param: null, code: 'upstream_error' } })}\n\n`;
const noText = () => '';

export const SURFACES: Record<string, Surface> = {
  'POST /v1/completions': {
    path: '/completions',
    multipart: false,
    parse(b) {
      const model = need(b, 'model');
      const promptText = textInput(b, 'prompt');
      const stream = flag(b, 'stream');
      const wantsUsage = stream && (b.stream_options as any)?.include_usage === true;
      const choices = Math.max(positive(b, 'n') ?? 1, positive(b, 'best_of') ?? 1);
      const r: SurfaceRequest = { model, stream, maxTokens: positive(b, 'max_tokens'), choices, promptText, chatFraming: { dropUsageChunk: stream && !wantsUsage } };
      // Usage is asked for on the caller's behalf (its last chunk is dropped again when the caller did not ask).
      if (stream && !wantsUsage) r.extra = { stream_options: { ...(b.stream_options as object), include_usage: true } };
      return r;
    },
    answerText: (body) => (Array.isArray(body?.choices) ? body.choices.map((c: any) => (typeof c?.text === 'string' ? c.text : '')).join('') : ''),
    errorEvent: dataError,
  },
  'POST /v1/embeddings': {
    path: '/embeddings',
    multipart: false,
    parse: (b) => noOutput(need(b, 'model'), textInput(b, 'input')),
    answerText: noText,
    errorEvent: dataError,
    vertex(b) {
      const input = typeof b.input === 'string' ? [b.input] : (b.input as unknown[]);
      if (!input.every((x): x is string => typeof x === 'string')) return null;
      // Checked by the upstream, not here: a passthrough to an OpenAI channel keeps its own answer to a bad value.
      const dimensions = Number.isSafeInteger(b.dimensions) && (b.dimensions as number) > 0 ? (b.dimensions as number) : undefined;
      return { instances: input.map((content) => ({ content })), dimensions, base64: b.encoding_format === 'base64' };
    },
  },
  'POST /v1/images/generations': {
    path: '/images/generations',
    multipart: false,
    parse(b) {
      const model = need(b, 'model');
      return { model, stream: flag(b, 'stream'), maxTokens: null, choices: positive(b, 'n') ?? 1, promptText: need(b, 'prompt') };
    },
    answerText: noText,
    errorEvent: typedError,
  },
  'POST /v1/images/edits': {
    path: '/images/edits',
    multipart: true,
    parse(b, files) {
      const model = need(b, 'model');
      if (!files.has('image') && !files.has('image[]')) throw bad("'image' is required (a file part).", 'image');
      return { model, stream: flag(b, 'stream'), maxTokens: null, choices: positive(b, 'n') ?? 1, promptText: need(b, 'prompt') };
    },
    answerText: noText,
    errorEvent: typedError,
  },
  'POST /v1/audio/speech': {
    path: '/audio/speech',
    multipart: false,
    parse(b) {
      const model = need(b, 'model');
      const input = need(b, 'input');
      if (typeof b.voice !== 'string' && !(b.voice && typeof (b.voice as any).id === 'string')) throw bad("'voice' is required (a voice name or {id}).", 'voice');
      return { model, stream: b.stream_format === 'sse', maxTokens: null, choices: 1, promptText: input };
    },
    answerText: noText,
    errorEvent: typedError,
  },
  'POST /v1/audio/transcriptions': {
    path: '/audio/transcriptions',
    multipart: true,
    parse(b, files) {
      const model = need(b, 'model');
      if (!files.has('file')) throw bad("'file' is required (the audio file part).", 'file');
      return { model, stream: flag(b, 'stream'), maxTokens: null, choices: 1, promptText: typeof b.prompt === 'string' ? b.prompt : '' };
    },
    answerText: (body) => (typeof body?.text === 'string' ? body.text : ''),
    errorEvent: typedError,
  },
  'POST /v1/moderations': {
    path: '/moderations',
    multipart: false,
    // OpenAI's default moderation model when the caller names none.
    parse: (b) => noOutput(b.model === undefined ? 'omni-moderation-latest' : need(b, 'model'), textInput(b, 'input')),
    answerText: noText,
    errorEvent: dataError,
  },
  'POST /v1/rerank': {
    path: '/rerank',
    multipart: false,
    parse(b) {
      const model = need(b, 'model');
      const query = need(b, 'query');
      if (!Array.isArray(b.documents) || b.documents.length === 0) throw bad("'documents' is required (a non-empty array).", 'documents');
      positive(b, 'top_n');
      const docs = b.documents.map((d: any) => (typeof d === 'string' ? d : typeof d?.text === 'string' ? d.text : '')).join('\n');
      return { ...noOutput(model, `${query}\n${docs}`), units: heldSearchUnits(b.documents.length) };
    },
    answerText: noText,
    usageOf: readRerankUsage,
    errorEvent: dataError,
  },
};

/** Channels these surfaces pass through to: OpenAI-compatible ones. */
// OpenAI itself, OpenAI-compatible vendors, and OpenAI-wire types that place these surfaces elsewhere (Azure).
const servesSurfaces = (ch: Channel) => ch.type === 'openai' || providerOf(ch).surfacePath !== undefined;

function parseJson(raw: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RelayError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RelayError(400, 'invalid_request', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

export async function relaySurface(gw: Gateway, surface: Surface, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const raw = await readBody(req, gw.config.MAX_BODY_BYTES);
  const contentType = req.headers['content-type'];
  let r: SurfaceRequest;
  let bodyFor: (model: string) => Buffer | string;
  let upstreamType = 'application/json';
  let vertex: VertexEmbedInput | null = null;
  if (surface.multipart) {
    const form = parseMultipart(raw, contentType);
    r = surface.parse(Object.fromEntries(form.fields), form.files);
    bodyFor = (model) => (model === r.model ? raw : withField(form, 'model', model));
    upstreamType = contentType!;
  } else {
    const body = parseJson(raw);
    r = surface.parse(body, new Set());
    bodyFor = (model) => (model === r.model && !r.extra ? raw : JSON.stringify({ ...body, ...r.extra, model }));
    vertex = surface.vertex?.(body) ?? null;
  }
  const onVertex = (ch: Channel) => vertex !== null && ch.type === 'vertex';
  const accepts = (ch: Channel) => servesSurfaces(ch) || onVertex(ch);
  const held = { model: r.model, stream: r.stream, bodyBytes: raw.length, maxTokens: r.maxTokens, choices: r.choices, units: r.units, accepts };
  const headers = { 'content-type': upstreamType, accept: '*/*' };
  await runHeld(gw, auth, held, res, startedAt, createdAt, async (channels, bill, signal) => {
    const cache = new Map<string, Buffer | string>();
    const mapped = (ch: Channel) => ch.modelMapping[r.model] ?? r.model;
    const body = (ch: Channel) => {
      if (onVertex(ch)) return predictBody(vertex!.instances, vertex!.dimensions);
      const model = mapped(ch);
      let out = cache.get(model);
      if (out === undefined) cache.set(model, (out = bodyFor(model)));
      return out;
    };
    const path = (ch: Channel) => (onVertex(ch) ? vertexPredictPath(ch, mapped(ch)) : providerOf(ch).surfacePath?.(ch, mapped(ch), surface.path) ?? surface.path);
    const result = await callUpstream(channels, { ...attemptOptions(gw, signal), path, body, headers: (ch) => (onVertex(ch) ? null : headers) });
    bill.channel = result.channel;
    bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
    if (onVertex(result.channel)) {
      const v = vertex!;
      const reply = { 'x-moleapi-request-id': bill.ctx.requestId };
      return answerVertexEmbeddings(gw, result, bill, {
        instances: v.instances,
        answer: (p, tokens) => openAIEmbeddings(p, r.model, v.base64, tokens),
        refusal: (status, message) => openAIErrorBody(new RelayError(status, 'upstream_refused', message)),
        send: (status, b) => sendJson(res, status, b, reply),
      });
    }
    const promptEstimate = () => countTokens(r.promptText);
    const chatFraming = r.chatFraming ? { ...r.chatFraming, messages: [{ content: r.promptText }] } : undefined;
    const usageOf = surface.usageOf ? { usageOf: surface.usageOf } : {};
    await answerSurface(gw, result, bill, res, signal, { answerText: surface.answerText, errorEvent: surface.errorEvent, promptEstimate, headers: { 'x-moleapi-request-id': bill.ctx.requestId }, ...usageOf, ...(chatFraming ? { chatFraming } : {}) });
  });
}
