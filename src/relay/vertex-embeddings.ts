// Embeddings on `vertex` channels. Vertex AI serves Google's embedding models through `:predict`
// (…/publishers/google/models/{model}:predict, body {instances: [{content, task_type?, title?}],
// parameters: {outputDimensionality?}}), answering {predictions: [{embeddings: {values,
// statistics: {token_count, truncated}}}], metadata: {billableCharacterCount}}. Both an OpenAI
// `/v1/embeddings` call and a Gemini `:embedContent` / `:batchEmbedContents` call are translated
// to it, and the answer back into the caller's shape. Billing: the token counts Vertex reports, as
// input tokens; when a prediction lacks its count, the tokenizer's count of the input, flagged
// estimated (billableCharacterCount is characters, not tokens, so it is not billed as tokens).
import type { Channel } from '../channels/registry.ts';
import type { Gateway } from '../gateway.ts';
import type { RequestBill } from './bill.ts';
import { upstreamMessage } from './chat-translated.ts';
import { readJsonAnswer } from './read-limited.ts';
import { RelayError } from './respond.ts';
import { countTokens } from './tokens.ts';
import { isObject } from './translate/util.ts';
import type { UpstreamRefusal, UpstreamSuccess } from './upstream.ts';
import { MAX_USAGE_TOKENS } from './usage.ts';

/** One text to embed, with Vertex's optional task type and title. */
export interface EmbedInstance {
  content: string;
  taskType?: string;
  title?: string;
}

export const vertexPredictPath = (ch: Channel, model: string) =>
  `/projects/${ch.config.project}/locations/${ch.config.location}/publishers/google/models/${encodeURIComponent(model)}:predict`;

export function predictBody(instances: EmbedInstance[], dimensions: number | undefined): string {
  return JSON.stringify({
    instances: instances.map((i) => ({ content: i.content, ...(i.taskType ? { task_type: i.taskType } : {}), ...(i.title ? { title: i.title } : {}) })),
    ...(dimensions ? { parameters: { outputDimensionality: dimensions } } : {}),
  });
}

export interface Predicted {
  vectors: number[][];
  /** Input tokens Vertex counted, or null when a prediction carries no count. */
  tokens: number | null;
}

const upstreamError = (message: string) => new RelayError(502, 'upstream_error', `The upstream provider sent an answer that is not an embedding prediction: ${message}.`, 'upstream_error');

/** Reads a `:predict` answer: one vector per instance, in order. */
export function readPredictions(body: unknown, expected: number): Predicted {
  if (!isObject(body) || !Array.isArray(body.predictions)) throw upstreamError('no predictions');
  if (body.predictions.length !== expected) throw upstreamError(`${body.predictions.length} predictions for ${expected} inputs`);
  let tokens: number | null = 0;
  const vectors = body.predictions.map((p, i) => {
    const e = isObject(p) ? p.embeddings : undefined;
    if (!isObject(e) || !Array.isArray(e.values) || !e.values.every((v) => typeof v === 'number' && Number.isFinite(v))) throw upstreamError(`predictions[${i}].embeddings.values`);
    const n = isObject(e.statistics) ? e.statistics.token_count : undefined;
    // A count that is not a sane integer makes the whole usage untrustworthy: estimated instead.
    if (tokens !== null && typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) tokens += n;
    else tokens = null;
    return e.values as number[];
  });
  if (tokens !== null && tokens > MAX_USAGE_TOKENS) tokens = null;
  return { vectors, tokens };
}

/** OpenAI's `encoding_format: "base64"`: the vector as little-endian float32 bytes. */
const base64Vector = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');

export function openAIEmbeddings(p: Predicted, model: string, base64: boolean, promptTokens: number) {
  return {
    object: 'list',
    data: p.vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? base64Vector(v) : v })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export const geminiEmbeddings = (p: Predicted, batch: boolean) => (batch ? { embeddings: p.vectors.map((values) => ({ values })) } : { embedding: { values: p.vectors[0] } });

export interface VertexEmbedCall {
  instances: EmbedInstance[];
  /** The caller's answer for the predictions and the input tokens billed. */
  answer: (p: Predicted, promptTokens: number) => unknown;
  /** The caller's error body for an upstream refusal. */
  refusal: (status: number, message: string) => unknown;
  send: (status: number, body: unknown) => void;
}

/** Answers an embeddings call a vertex channel took: refusals passed on in the caller's shape, predictions translated and billed. */
export async function answerVertexEmbeddings(gw: Gateway, result: UpstreamSuccess | UpstreamRefusal, bill: RequestBill, c: VertexEmbedCall): Promise<void> {
  if (!('response' in result)) {
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    c.send(result.status, c.refusal(result.status, `The upstream provider refused the request: ${upstreamMessage(result.body)}`));
    return;
  }
  const { parsed } = await readJsonAnswer(result.response, gw.config.MAX_RESPONSE_BYTES);
  const p = readPredictions(parsed, c.instances.length);
  const promptTokens = p.tokens ?? (await countTokens(c.instances.map((i) => i.content).join('\n')));
  await bill.charge({ promptTokens, completionTokens: 0, cachedTokens: 0 }, { estimated: p.tokens === null, status: 200 });
  c.send(200, c.answer(p, promptTokens));
}
