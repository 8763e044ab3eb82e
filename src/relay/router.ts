import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../gateway.ts';
import { authorize } from './auth.ts';
import { chatCompletions } from './chat.ts';
import { anthropicErrorBody, countMessageTokens, messages } from './inbound/anthropic.ts';
import { geminiErrorBody, geminiRoute, generateContent } from './inbound/gemini.ts';
import { relaySurface, SURFACES } from './inbound/openai-surfaces.ts';
import { responses } from './inbound/responses.ts';
import { countGeminiTokens, embedContent } from './inbound/gemini-extra.ts';
import { RelayError, sendError, sendJson, type OpenAIErrorType } from './respond.ts';

/** True for paths the relay answers (the caller-facing API), false for the console and management API. */
export function isRelayPath(path: string): boolean {
  return path.startsWith('/v1/') || path === '/v1' || path.startsWith('/v1beta/');
}

type ModelFormat = 'gemini' | 'anthropic' | 'openai';

// The caller's format: Gemini on /v1beta; Anthropic when anthropic-version is sent (product.md says with
// x-api-key, but @anthropic-ai/sdk 1.x sends its key as Authorization: Bearer).
const modelFormat = (req: IncomingMessage, path: string): ModelFormat =>
  path.startsWith('/v1beta/') ? 'gemini' : req.headers['anthropic-version'] ? 'anthropic' : 'openai';

const modelView = (format: ModelFormat, id: string) =>
  format === 'gemini'
    ? { name: `models/${id}`, displayName: id, supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'] }
    : format === 'anthropic'
      ? { type: 'model', id, display_name: id, created_at: '1970-01-01T00:00:00Z' }
      : { id, object: 'model', created: 0, owned_by: 'moleapi' };

/** The models the caller's key may use: served in its group, priced, and allowed by the key. */
async function callerModels(gw: Gateway, req: IncomingMessage, query: string): Promise<string[]> {
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  return gw.channels.modelsIn(auth.key.group).filter((m) => gw.pricing.prices.has(m) && auth.allowModel(m));
}

async function listModels(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string, path: string) {
  const models = await callerModels(gw, req, query);
  const format = modelFormat(req, path);
  if (format === 'gemini') {
    sendJson(res, 200, { models: models.map((id) => modelView(format, id)) });
  } else if (format === 'anthropic') {
    const data = models.map((id) => modelView(format, id));
    sendJson(res, 200, { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null });
  } else {
    sendJson(res, 200, { object: 'list', data: models.map((id) => modelView(format, id)) });
  }
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** GET /v1/models/{id} and GET /v1beta/models/{model}: one model the key may use, else 404 in the caller's shape. */
async function getModel(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string, path: string, id: string) {
  const models = await callerModels(gw, req, query);
  if (!models.includes(id)) {
    throw new RelayError(404, 'model_not_found', `The model "${id}" does not exist or this API key may not use it. See GET /v1/models.`, 'not_found_error', 'model');
  }
  sendJson(res, 200, modelView(modelFormat(req, path), id));
}

export async function handleRelay(gw: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Split path and query by hand: a URL object per request is measurable on the hot path.
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const route = `${req.method} ${path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') : path}`;
  try {
    if (route === 'POST /v1/chat/completions') return await chatCompletions(gw, req, res, query);
    if (route === 'GET /v1/models' || route === 'GET /v1beta/models') return await listModels(gw, req, res, query, route.slice(4));
    // Model ids may hold slashes (OpenRouter's "vendor/model"); a malformed %-escape is simply not found.
    const one = req.method === 'GET' ? /^\/(?:v1|v1beta)\/models\/(.+?)\/?$/.exec(path) : null;
    if (one) return await getModel(gw, req, res, query, path, safeDecode(one[1]!));
    if (route === 'POST /v1/responses') return await responses(gw, req, res, query);
    if (Object.hasOwn(SURFACES, route)) return await relaySurface(gw, SURFACES[route]!, req, res, query);
    if (route === 'POST /v1/messages') return await messages(gw, req, res, query);
    if (route === 'POST /v1/messages/count_tokens') return await countMessageTokens(gw, req, res, query);
    if (req.method === 'POST' && path.startsWith('/v1beta/models/')) {
      const g = geminiRoute(path);
      if (g && (g.method === 'generateContent' || g.method === 'streamGenerateContent')) {
        return await generateContent(gw, req, res, query, g.model, g.method === 'streamGenerateContent');
      }
      if (g?.method === 'countTokens') return await countGeminiTokens(gw, req, res, query, g.model);
      if (g && (g.method === 'embedContent' || g.method === 'batchEmbedContents')) return await embedContent(gw, req, res, query, g.model, g.method === 'batchEmbedContents');
    }
    if (path.startsWith('/v1beta/')) {
      throw new RelayError(501, 'not_implemented', `${route} is not implemented yet by this gateway.`, 'invalid_request_error');
    }
    throw new RelayError(404, 'unknown_route', `Unknown route ${route}. See GET /api/openapi.json.`, 'not_found_error');
  } catch (err) {
    if (err instanceof RelayError) {
      // Refusals before the body was read leave it unread: close the connection so it is not parsed as a request.
      const headers: Record<string, string> = req.complete ? {} : { connection: 'close' };
      // Anthropic callers (Claude Code, @anthropic-ai/sdk) read errors only in Anthropic's shape.
      if (path.startsWith('/v1/messages')) sendJson(res, err.status, anthropicErrorBody(err), headers);
      else if (path.startsWith('/v1beta/')) sendJson(res, err.status, geminiErrorBody(err.status, err.message), headers);
      else sendError(res, err, headers);
      if (!req.complete) req.resume();
      return;
    }
    gw.log.error({ err }, 'relay fault');
    const fault = new RelayError(500, 'server_error', 'Internal error in the gateway. It has been logged.', 'server_error' satisfies OpenAIErrorType);
    if (path.startsWith('/v1/messages')) sendJson(res, 500, anthropicErrorBody(fault));
    else if (path.startsWith('/v1beta/')) sendJson(res, 500, geminiErrorBody(500, fault.message));
    else sendError(res, fault);
  }
}
