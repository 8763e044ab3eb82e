// A fake Gemini (AI Studio) upstream: a real HTTP server on 127.0.0.1 speaking the v1beta REST wire
// format: POST /v1beta/models/{model}:generateContent (JSON) and :streamGenerateContent (with
// `?alt=sse`: `data: {chunk}\r\n\r\n` events; without it: one JSON array), key as `x-goog-api-key`
// or `?key=` (missing → 403 PERMISSION_DENIED), Google error bodies {error: {code, message, status}},
// usageMetadata on every chunk (cumulative), finishReason on the last.
// Behaviour is chosen by the model name in the path, so parallel tests never interfere:
//   (default)  K = min(maxOutputTokens ?? 8, 8) words "tok ", usage {prompt 10, candidates K};
//              finishReason STOP, or MAX_TOKENS when the cap cut it
//   cached     usageMetadata.cachedContentTokenCount = 4
//   audio      promptTokensDetails with AUDIO_PROMPT_TOKENS AUDIO tokens, candidatesTokensDetails all AUDIO
//   tools      when the request declares functions: text "Let me check." then a functionCall of the
//              first one (no id, as Gemini sends it; args {"location":"Paris"}; a thoughtSignature)
//   thinking   when thinkingConfig.includeThoughts: a thought part first, thoughtsTokenCount 3
//   error500   500 INTERNAL;  error400: 400 INVALID_ARGUMENT
//   error429   429 RESOURCE_EXHAUSTED with `retry-after: 7` and a RetryInfo detail
//   reset      the connection is reset before any answer
//   cut        stream: 3 chunks, then the socket is destroyed; JSON: reset at once
//   stall      stream: one chunk, then silence until the client leaves; JSON: never answers
//   delay      waits 300 ms (or N ms for `delayN`) then answers normally
// Keys starting with `revoked` get 403 PERMISSION_DENIED (what a leaked, revoked key gets).
// Also :countTokens ({totalTokens}: 2 per word of text) and :embedContent / :batchEmbedContents
// (4-dimension vectors, no usage: Gemini reports none for embeddings).
// With `vertex` it serves Vertex AI instead: /v1/projects/{project}/locations/{location}/publishers/
// google/models/{model}:{method}, authenticated by `Authorization: Bearer` with a token from its own
// OAuth endpoint (POST /token, JWT bearer grant whose assertion must be signed by the service
// account's key; `tokenRequests` counts the exchanges); a wrong token gets 401 UNAUTHENTICATED.
// Vertex mode also serves embedding models through `:predict` (see predict below).
import { createVerify, randomBytes } from 'node:crypto';
import { startFakeServer, type RecordedRequest } from './fake-http.ts';

export interface FakeGeminiRequest extends RecordedRequest {
  model: string;
  action: string;
}

export interface FakeGemini {
  url: string;
  requests: FakeGeminiRequest[];
  /** Vertex mode: token exchanges made at /token. */
  tokenRequests: number;
  close(): Promise<void>;
}

export interface VertexOptions {
  project: string;
  location: string;
  clientEmail: string;
  /** PEM public key of the service account. */
  publicKey: string;
}

const PROMPT_TOKENS = 10;
/** `audio` models: this many of the prompt's tokens are AUDIO, and the whole answer is (native audio output). */
export const AUDIO_PROMPT_TOKENS = 6;
const THOUGHT_TOKENS = 3;
const ROUTE = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/;
const vertexRoute = (v: VertexOptions) => new RegExp(`^/v1/projects/${v.project}/locations/${v.location}/publishers/google/models/([^/:]+):([A-Za-z]+)$`);
const words = (v: unknown): number => (typeof v === 'string' ? v.split(/\s+/).filter(Boolean).length : Array.isArray(v) ? v.reduce((n: number, x) => n + words(x), 0) : v && typeof v === 'object' ? Object.values(v).reduce((n: number, x) => n + words(x), 0) : 0);
const vectorOf = (content: unknown) => [0.1, -0.2, 0.3, words(content) / 100];

/** Checks a JWT bearer assertion's RS256 signature and claims; returns why it is refused, or null. */
function assertionProblem(assertion: string, v: VertexOptions, audience: string): string | null {
  const [h, c, sig] = assertion.split('.');
  if (!h || !c || !sig) return 'malformed JWT';
  if (!createVerify('RSA-SHA256').update(`${h}.${c}`).verify(v.publicKey, Buffer.from(sig, 'base64url'))) return 'Invalid JWT Signature.';
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
  if (claims.iss !== v.clientEmail) return 'Invalid issuer';
  if (claims.aud !== audience) return 'Invalid audience';
  if (!(claims.exp > Date.now() / 1000)) return 'Token has expired';
  return null;
}

/**
 * Vertex `:predict` for embedding models: one prediction per instance ({embeddings: {values,
 * statistics: {token_count: 2 per word, truncated}}}) and metadata.billableCharacterCount;
 * `nostats` models leave the statistics out; `outputDimensionality` cuts the vector.
 */
function predict(model: string, body: any): [number, string] {
  if (!Array.isArray(body.instances) || body.instances.length === 0) return [400, errorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. instances is required.')];
  if (model.includes('error400')) return [400, errorBody(400, 'INVALID_ARGUMENT', 'Unable to submit request because the input token count is 30000 but the model supports up to 20000.')];
  const dims = body.parameters?.outputDimensionality;
  const predictions = body.instances.map((i: any) => ({
    embeddings: { values: vectorOf(i?.content).slice(0, dims ?? undefined), ...(model.includes('nostats') ? {} : { statistics: { truncated: false, token_count: EMBED_TOKENS_PER_WORD * words(i?.content) } }) },
  }));
  const chars = body.instances.reduce((n: number, i: any) => n + String(i?.content ?? '').length, 0);
  return [200, JSON.stringify({ predictions, metadata: { billableCharacterCount: chars } })];
}
/** Vertex embedding token count per word of an instance's content. */
export const EMBED_TOKENS_PER_WORD = 2;

const errorBody = (code: number, status: string, message: string, details?: unknown[]) => JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

export async function startFakeGemini(opts: { vertex?: VertexOptions } = {}): Promise<FakeGemini> {
  let seq = 0;
  const tokens = new Set<string>();
  const state = { tokenRequests: 0, url: '' };
  const vertex = opts.vertex;
  const routeRe = vertex ? vertexRoute(vertex) : ROUTE;
  const fake = await startFakeServer<FakeGeminiRequest>(
    (r) => {
      const route = routeRe.exec(decodeURIComponent(r.path));
      return { ...r, model: route?.[1] ?? '', action: route?.[2] ?? '' };
    },
    ({ req, res, rec, parseFailed, raw, json, destroy, later, delayed }) => {
      const { body } = rec;
      const url = { searchParams: rec.query, pathname: rec.path };
      const route = routeRe.exec(decodeURIComponent(url.pathname));
      if (vertex && rec.path === '/token') {
        state.tokenRequests++;
        const form = new URLSearchParams(raw);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, JSON.stringify({ error: 'unsupported_grant_type', error_description: 'Invalid grant_type' }));
        const why = assertionProblem(form.get('assertion') ?? '', vertex, `${state.url}/token`);
        if (why) return json(400, JSON.stringify({ error: 'invalid_grant', error_description: why }));
        const token = `ya29.fake${randomBytes(8).toString('hex')}`;
        tokens.add(token);
        return json(200, JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
      }
      if (vertex) {
        const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (!bearer || !tokens.has(bearer)) {
          return json(401, errorBody(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'));
        }
      } else {
        const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
        if (!key) {
          return json(403, errorBody(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
        }
        if (String(key).startsWith('revoked')) return json(403, errorBody(403, 'PERMISSION_DENIED', 'Your API key was reported as leaked. Please use another API key.'));
      }
      if (req.method !== 'POST' || !route) return json(404, errorBody(404, 'NOT_FOUND', `Invalid URL (${req.method} ${url.pathname})`));
      if (parseFailed || typeof body !== 'object' || body === null) return json(400, errorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
      if (route[2] === 'countTokens') return json(200, JSON.stringify({ totalTokens: 2 * words(body.contents ?? body.generateContentRequest?.contents), promptTokensDetails: [] }));
      if (route[2] === 'embedContent') {
        if (!body.content?.parts) return json(400, errorBody(400, 'INVALID_ARGUMENT', '* EmbedContentRequest.content: content is not specified'));
        return json(200, JSON.stringify({ embedding: { values: vectorOf(body.content) } }));
      }
      if (route[2] === 'batchEmbedContents') {
        if (!Array.isArray(body.requests)) return json(400, errorBody(400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: requests is not specified'));
        return json(200, JSON.stringify({ embeddings: body.requests.map((r: any) => ({ values: vectorOf(r?.content) })) }));
      }
      if (vertex && route[2] === 'predict') return json(...predict(route[1]!, body));
      if (route[2] !== 'generateContent' && route[2] !== 'streamGenerateContent') return json(404, errorBody(404, 'NOT_FOUND', `Method ${route[2]} not found`));
      if (!Array.isArray(body.contents) || body.contents.length === 0) return json(400, errorBody(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified'));

      const model = route[1]!;
      const stream = route[2] === 'streamGenerateContent';
      const sse = url.searchParams.get('alt') === 'sse';
      const cap = body.generationConfig?.maxOutputTokens ?? 8;
      const k = Math.max(0, Math.min(Number(cap) || 0, 8));
      const responseId = `resp_fake${++seq}`;
      const functions = (body.tools ?? []).flatMap((t: any) => t.functionDeclarations ?? []);
      const withTool = model.includes('tools') && functions.length > 0;
      const withThinking = model.includes('thinking') && body.generationConfig?.thinkingConfig?.includeThoughts === true;
      const finishReason = !withTool && cap < 8 ? 'MAX_TOKENS' : 'STOP';

      if (model.includes('error500')) return json(500, errorBody(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'));
      if (model.includes('error400')) return json(400, errorBody(400, 'INVALID_ARGUMENT', 'Invalid value at \'generation_config.temperature\''));
      if (model.includes('error429')) {
        return json(429, errorBody(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }]), { 'retry-after': '7' });
      }
      if (model.includes('reset')) return destroy();

      // The answer as the parts Gemini would stream, one chunk each.
      const pieces: any[] = [];
      if (withThinking) pieces.push({ text: 'Thinking about it.', thought: true });
      if (withTool) pieces.push({ text: 'Let me check.' }, { functionCall: { name: functions[0].name, args: { location: 'Paris' } }, thoughtSignature: 'c2lnX2Zha2U=' });
      else for (let i = 0; i < k; i++) pieces.push({ text: 'tok ' });
      const candidatesTotal = withTool ? 12 : k;
      const usage = (candidates: number, final: boolean) => ({
        promptTokenCount: PROMPT_TOKENS,
        ...(final || candidates ? { candidatesTokenCount: candidates } : {}),
        totalTokenCount: PROMPT_TOKENS + candidates + (withThinking ? THOUGHT_TOKENS : 0),
        ...(model.includes('cached') ? { cachedContentTokenCount: 4 } : {}),
        ...(withThinking ? { thoughtsTokenCount: THOUGHT_TOKENS } : {}),
        ...(model.includes('audio')
          ? { promptTokensDetails: [{ modality: 'TEXT', tokenCount: PROMPT_TOKENS - AUDIO_PROMPT_TOKENS }, { modality: 'AUDIO', tokenCount: AUDIO_PROMPT_TOKENS }], candidatesTokensDetails: [{ modality: 'AUDIO', tokenCount: candidates }] }
          : { promptTokensDetails: [{ modality: 'TEXT', tokenCount: PROMPT_TOKENS }] }),
      });
      const chunkOf = (parts: any[], i: number, final: boolean) => ({
        candidates: [{ content: { parts, role: 'model' }, ...(final ? { finishReason } : {}), index: 0 }],
        usageMetadata: usage(final ? candidatesTotal : Math.min(i + 1, candidatesTotal), final),
        modelVersion: model,
        responseId,
      });
      const streamChunks = () => pieces.map((p, i) => chunkOf([p], i, i === pieces.length - 1)).concat(pieces.length === 0 ? [chunkOf([{ text: '' }], 0, true)] : []);

      const answer = () => {
        if (res.destroyed) return;
        if (!stream) {
          // A whole answer holds the text as one part, as Gemini sends it.
          const whole = withTool || withThinking ? pieces : k ? [{ text: 'tok '.repeat(k) }] : [{ text: '' }];
          return json(200, JSON.stringify(chunkOf(whole, 0, true)));
        }
        if (!sse) return json(200, JSON.stringify(streamChunks()));
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const c of streamChunks()) res.write(`data: ${JSON.stringify(c)}\r\n\r\n`);
        res.end();
      };
      const streamHead = () => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });

      if (model.includes('cut')) {
        if (!stream) return destroy();
        streamHead();
        for (let i = 0; i < 3; i++) res.write(`data: ${JSON.stringify(chunkOf([{ text: 'tok ' }], i, false))}\r\n\r\n`);
        later(50, destroy);
        return;
      }
      if (model.includes('stall')) {
        if (!stream) return;
        streamHead();
        res.write(`data: ${JSON.stringify(chunkOf([{ text: 'tok ' }], 0, false))}\r\n\r\n`);
        return;
      }
      if (model.includes('delay')) return delayed(Number(/delay(\d+)/.exec(model)?.[1] ?? 300), answer);
      answer();
    },
    () => ({ 'content-type': 'application/json; charset=UTF-8' }),
  );
  state.url = fake.url;
  return {
    url: fake.url,
    requests: fake.requests,
    get tokenRequests() {
      return state.tokenRequests;
    },
    close: () => fake.close(),
  };
}
