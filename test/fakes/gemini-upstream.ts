// A fake Gemini (AI Studio) upstream: a real HTTP server on 127.0.0.1 speaking the v1beta REST wire
// format: POST /v1beta/models/{model}:generateContent (JSON) and :streamGenerateContent (with
// `?alt=sse`: `data: {chunk}\r\n\r\n` events; without it: one JSON array), key as `x-goog-api-key`
// or `?key=` (missing → 403 PERMISSION_DENIED), Google error bodies {error: {code, message, status}},
// usageMetadata on every chunk (cumulative), finishReason on the last.
// Behaviour is chosen by the model name in the path, so parallel tests never interfere:
//   (default)  K = min(maxOutputTokens ?? 8, 8) words "tok ", usage {prompt 10, candidates K};
//              finishReason STOP, or MAX_TOKENS when the cap cut it
//   cached     usageMetadata.cachedContentTokenCount = 4
//   tools      when the request declares functions: text "Let me check." then a functionCall of the
//              first one (no id, as Gemini sends it; args {"location":"Paris"}; a thoughtSignature)
//   thinking   when thinkingConfig.includeThoughts: a thought part first, thoughtsTokenCount 3
//   error500   500 INTERNAL;  error400: 400 INVALID_ARGUMENT
//   error429   429 RESOURCE_EXHAUSTED with `retry-after: 7` and a RetryInfo detail
//   reset      the connection is reset before any answer
//   cut        stream: 3 chunks, then the socket is destroyed; JSON: reset at once
//   stall      stream: one chunk, then silence until the client leaves; JSON: never answers
//   delay      waits 300 ms (or N ms for `delayN`) then answers normally
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGeminiRequest {
  method: string;
  path: string;
  model: string;
  action: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
  aborted: boolean;
}

export interface FakeGemini {
  url: string;
  requests: FakeGeminiRequest[];
  close(): Promise<void>;
}

const PROMPT_TOKENS = 10;
const THOUGHT_TOKENS = 3;
const ROUTE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

const errorBody = (code: number, status: string, message: string, details?: unknown[]) => JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

export async function startFakeGemini(): Promise<FakeGemini> {
  const requests: FakeGeminiRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let seq = 0;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      let parseFailed = false;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        parseFailed = true;
      }
      const url = new URL(req.url ?? '/', 'http://fake');
      const route = ROUTE.exec(decodeURIComponent(url.pathname));
      const rec: FakeGeminiRequest = { method: req.method ?? 'GET', path: url.pathname, model: route?.[1] ?? '', action: route?.[2] ?? '', query: url.searchParams, headers: req.headers, body, aborted: false };
      requests.push(rec);
      let selfClosed = false;
      res.on('close', () => {
        if (!res.writableFinished && !selfClosed) rec.aborted = true;
      });
      const json = (status: number, text: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
        res.end(text);
      };
      const destroy = () => {
        selfClosed = true;
        req.socket.destroy();
      };

      if (!req.headers['x-goog-api-key'] && !url.searchParams.get('key')) {
        return json(403, errorBody(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
      }
      if (req.method !== 'POST' || !route) return json(404, errorBody(404, 'NOT_FOUND', `Invalid URL (${req.method} ${url.pathname})`));
      if (parseFailed || typeof body !== 'object' || body === null) return json(400, errorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
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
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: PROMPT_TOKENS }],
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
      if (model.includes('delay')) {
        const t = later(Number(/delay(\d+)/.exec(model)?.[1] ?? 300), answer);
        res.on('close', () => {
          clearTimeout(t);
          timers.delete(t);
        });
        return;
      }
      answer();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
