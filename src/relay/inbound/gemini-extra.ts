// The Gemini API's other model methods: :countTokens (a local estimate, free, no upstream call, like
// Anthropic's count_tokens here) and :embedContent / :batchEmbedContents, through the shared
// pipeline: passed through to `gemini` channels (AI Studio reports no usage for embeddings, so the
// input is counted with the tokenizer and the charge flagged estimated), translated to `:predict`
// on `vertex` channels (billed from the token counts Vertex reports; src/relay/vertex-embeddings.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Channel } from '../../channels/registry.ts';
import type { Gateway } from '../../gateway.ts';
import { authorize } from '../auth.ts';
import type { RequestBill } from '../bill.ts';
import { readBody } from '../body.ts';
import { upstreamMessage } from '../chat-translated.ts';
import { attemptOptions, runHeld } from '../pipeline.ts';
import { readJsonAnswer } from '../read-limited.ts';
import { RelayError, sendJson } from '../respond.ts';
import { countTokens, estimatePromptTokens } from '../tokens.ts';
import { callUpstream, isRefusal, type UpstreamRefusal, type UpstreamSuccess } from '../upstream.ts';
import { answerVertexEmbeddings, geminiEmbeddings, predictBody, vertexPredictPath, type EmbedInstance } from '../vertex-embeddings.ts';
import { geminiErrorBody } from './gemini.ts';

const bad = (message: string, param: string | null = null) => new RelayError(400, 'invalid_request', message, 'invalid_request_error', param);

function parseObject(raw: Buffer): Record<string, any> {
  let b: unknown;
  try {
    b = JSON.parse(raw.toString('utf8'));
  } catch {
    throw bad('Invalid JSON payload received.');
  }
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw bad('The request body must be a JSON object.');
  return b as Record<string, any>;
}

const asContents = (v: unknown) => (Array.isArray(v) ? v.map((c) => ({ content: c?.parts })) : []);

/** POST /v1beta/models/{model}:countTokens: `contents`, or a whole `generateContentRequest`. */
export async function countGeminiTokens(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string, model: string): Promise<void> {
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const b = parseObject(await readBody(req, gw.config.MAX_BODY_BYTES));
  if (!auth.allowModel(model)) throw new RelayError(403, 'model_not_allowed', `This API key may not use model "${model}".`, 'permission_error', 'model');
  const g = b.generateContentRequest && typeof b.generateContentRequest === 'object' ? b.generateContentRequest : b;
  if (!Array.isArray(g.contents)) throw bad('contents is not specified (an array is required).', 'contents');
  const system = g.systemInstruction ? [{ content: g.systemInstruction.parts }] : [];
  const tools = Array.isArray(g.tools) ? await countTokens(JSON.stringify(g.tools)) : 0;
  sendJson(res, 200, { totalTokens: (await estimatePromptTokens([...system, ...asContents(g.contents)])) + tools });
}

/** POST /v1beta/models/{model}:embedContent and :batchEmbedContents. */
export async function embedContent(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string, model: string, batch: boolean): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const raw = await readBody(req, gw.config.MAX_BODY_BYTES);
  const b = parseObject(raw);
  let requests: any[];
  if (batch) {
    if (!Array.isArray(b.requests) || b.requests.length === 0) throw bad('requests is not specified (a non-empty array is required).', 'requests');
    requests = b.requests;
    requests.forEach((r: any, i: number) => {
      if (!Array.isArray(r?.content?.parts)) throw bad(`requests[${i}].content.parts is not specified.`, `requests[${i}].content`);
    });
  } else {
    if (!Array.isArray(b.content?.parts)) throw bad('content is not specified (content.parts is required).', 'content');
    requests = [b];
  }
  const inputs: unknown[] = requests.map((r) => r.content.parts);
  const method = batch ? 'batchEmbedContents' : 'embedContent';
  // Embeddings generate no output tokens: the hold covers the input only.
  const held = { model, stream: false, bodyBytes: raw.length, maxTokens: 1, choices: 1, accepts: (ch: Channel) => ch.type === 'gemini' || ch.type === 'vertex' };
  const instances = requests.map((r): EmbedInstance => ({ content: partsText(r.content.parts), taskType: optionalText(r.taskType), title: optionalText(r.title) }));
  const dimensions = Number.isSafeInteger(requests[0].outputDimensionality) && requests[0].outputDimensionality > 0 ? requests[0].outputDimensionality : undefined;
  const predict = predictBody(instances, dimensions);
  await runHeld(gw, auth, held, res, startedAt, createdAt, async (channels, bill, signal) => {
    const mapped = (ch: Channel) => ch.modelMapping[model] ?? model;
    const vertex = (ch: Channel) => ch.type === 'vertex';
    const path = (ch: Channel) => (vertex(ch) ? vertexPredictPath(ch, mapped(ch)) : `/models/${encodeURIComponent(mapped(ch))}:${method}`);
    const result = await callUpstream(channels, { ...attemptOptions(gw, signal), body: (ch) => (vertex(ch) ? predict : raw), path });
    bill.channel = result.channel;
    if (!vertex(result.channel)) return answerGemini(gw, result, inputs, bill, res);
    const reply = { 'x-moleapi-request-id': bill.ctx.requestId };
    await answerVertexEmbeddings(gw, result, bill, {
      instances,
      answer: (p) => geminiEmbeddings(p, batch),
      refusal: (status, message) => geminiErrorBody(status, message),
      send: (status, body) => sendJson(res, status, body, reply),
    });
  });
}

const optionalText = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
/** The text parts of one content, joined (Vertex embeds text only). */
const partsText = (parts: unknown[]) => parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('\n');

async function answerGemini(gw: Gateway, result: UpstreamSuccess | UpstreamRefusal, inputs: unknown[], bill: RequestBill, res: ServerResponse) {
  const headers = { 'x-moleapi-request-id': bill.ctx.requestId };
  if (isRefusal(result)) {
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    sendJson(res, result.status, geminiErrorBody(result.status, `The upstream provider refused the request: ${upstreamMessage(result.body)}`), headers);
    return;
  }
  const { buf } = await readJsonAnswer(result.response, gw.config.MAX_RESPONSE_BYTES); // parsed only to refuse a non-JSON answer
  const promptTokens = await estimatePromptTokens(inputs.map((parts) => ({ content: parts })));
  await bill.charge({ promptTokens, completionTokens: 0, cachedTokens: 0 }, { estimated: true, status: 200 });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': buf.length, ...headers });
  res.end(buf);
}
