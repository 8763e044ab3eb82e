// A fake OpenAI upstream: a real HTTP server on 127.0.0.1 that speaks the chat completions wire format
// (JSON and SSE), so relay tests exercise the gateway's real HTTP client, framing and usage parsing.
// Behaviour is chosen by the model name the gateway sends upstream (after any model mapping), so
// parallel tests using different model names never interfere:
//   (default)  K = min(max_completion_tokens ?? max_tokens ?? 8, 8) words "tok ", usage {10, K}
//   cached     as default, usage.prompt_tokens_details.cached_tokens = 4
//   audio      as default, with audio tokens in prompt_tokens_details and completion_tokens_details
//   nousage    never sends usage (JSON or stream)
//   error500   500 with an OpenAI error body;  error400: 400 with an OpenAI error body
//   cut        stream: 3 word chunks then the socket is destroyed; non-stream: socket destroyed at once
//   slow       stream: one chunk every 100 ms for 30 s; non-stream: answers after 30 s; a client that
//              goes away first is recorded as `aborted: true`
//   delay      waits 300 ms (or N ms for `delayN`, e.g. `delay1500`) then answers normally
//   error429 / error408   that status with an OpenAI error body (retryable: the gateway fails over);
//              the 429 carries `retry-after: 30`
//   reset      the connection is reset before any answer
// The key `sk-revoked` gets OpenAI's 401 invalid_api_key (a revoked key), whatever the model.
//   empty      stream: 200 text/event-stream headers, then the end, with no event at all
//   stall      stream: one word chunk then silence (socket kept open); non-stream: headers, half a body, silence
//   huge       1 MB of one repeated character: stream in 4 KB content chunks without usage; non-stream one JSON answer
//   toolcall   with `tools` in the request: one call of the first tool, arguments {"city":"Paris"}, usage {10, 5}
// 429 answers carry `retry-after: 1`, as OpenAI's do. The other surfaces (/responses, /completions,
// /embeddings, images, audio, /moderations, /rerank) are in openai-surfaces.ts.
//   floodburst stream: FLOOD_EVENTS content chunks of FLOOD_TEXT in one write, then the usage when asked
//   flood      stream (a misbehaving provider ignoring max_tokens): up to FLOOD_EVENTS content chunks
//              of FLOOD_TEXT, one every 2 ms, then the usage when asked; stops when the client leaves
// Like OpenAI it honours `n` (n choices, usage counts all of them). A request body field `fake_usage`
// (a string) is sent verbatim as the usage value, e.g. '{"prompt_tokens":1e400,"completion_tokens":2}'.
// Like OpenAI, it requires `Authorization: Bearer …` and rejects `stream_options` without `stream`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerSurface, formFields, surfacePath } from './openai-surfaces.ts';

export interface FakeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** Text fields of a multipart body (files as `file:<name>` → size). */
  form: Map<string, string> | null;
  aborted: boolean;
}

export interface FakeOpenAI {
  url: string;
  requests: FakeRequest[];
  /** Requests being answered right now, and the most there ever were at once. */
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

const PROMPT_TOKENS = 10;
export const FLOOD_TEXT = 'flood '.repeat(20);
export const FLOOD_EVENTS = 400;
const SLOW_INTERVAL_MS = 100;
const SLOW_TOTAL_MS = 30_000;

function errorBody(message: string, type: string, code: string | null = null) {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

/** `audio` models (gpt-4o-audio style): AUDIO_PROMPT_TOKENS of the prompt are audio, and all but 2 of the answer's tokens. */
export const AUDIO_PROMPT_TOKENS = 6;
export const audioAnswerTokens = (completion: number) => Math.max(0, completion - 2);

function usageFor(model: string, completion: number) {
  const audio = model.includes('audio');
  return {
    prompt_tokens: PROMPT_TOKENS,
    completion_tokens: completion,
    total_tokens: PROMPT_TOKENS + completion,
    prompt_tokens_details: { cached_tokens: model.includes('cached') ? 4 : 0, audio_tokens: audio ? AUDIO_PROMPT_TOKENS : 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: audio ? audioAnswerTokens(completion) : 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function delayOf(model: string): number {
  const m = /delay(\d+)/.exec(model);
  return m ? Number(m[1]) : 300;
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: FakeRequest[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
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
  const cancel = (t: NodeJS.Timeout | undefined) => {
    if (t) {
      clearTimeout(t);
      clearInterval(t);
      timers.delete(t);
    }
  };

  const server = http.createServer((req, res) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    res.on('close', () => state.inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBuf = Buffer.concat(chunks);
      const raw = rawBuf.toString('utf8');
      let body: any;
      let parseFailed = false;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          parseFailed = true;
        }
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const form = formFields(rawBuf, req.headers['content-type']);
      const rec: FakeRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, form, aborted: false };
      requests.push(rec);
      let selfClosed = false;
      res.on('close', () => {
        if (!res.writableFinished && !selfClosed) rec.aborted = true;
      });
      const json = (status: number, text: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_fake_${seq}`, ...headers });
        res.end(text);
      };

      const auth = req.headers.authorization;
      if (!auth || !/^Bearer \S+/.test(auth)) {
        json(401, errorBody("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", 'invalid_request_error', 'invalid_api_key'));
        return;
      }
      if (auth === 'Bearer sk-revoked') {
        json(401, errorBody('Incorrect API key provided: sk-revo*****. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'));
        return;
      }

      if (req.method === 'GET' && path.endsWith('/models')) {
        const created = Math.floor(Date.now() / 1000);
        json(200, JSON.stringify({
          object: 'list',
          data: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1'].map((id) => ({ id, object: 'model', created, owned_by: 'openai' })),
        }));
        return;
      }

      if (req.method === 'POST' && surfacePath(path)) {
        if (!form && (parseFailed || typeof body !== 'object' || body === null)) {
          json(400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'));
          return;
        }
        const cut = () => {
          selfClosed = true;
          req.socket.destroy();
        };
        answerSurface({ path, model: String(form?.get('model') ?? body?.model ?? ''), body: body ?? {}, form, res, seq: ++seq, cut, later });
        return;
      }

      if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
        json(404, errorBody(`Invalid URL (${req.method} ${path})`, 'invalid_request_error'));
        return;
      }
      if (parseFailed || typeof body !== 'object' || body === null) {
        json(400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'));
        return;
      }
      const model = String(body.model ?? '');
      if (!model || !Array.isArray(body.messages)) {
        json(400, errorBody("Missing required parameter: 'model' or 'messages'.", 'invalid_request_error', 'missing_required_parameter'));
        return;
      }
      const stream = body.stream === true;
      if (body.stream_options != null && !stream) {
        json(400, errorBody("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'invalid_request_error', 'invalid_value'));
        return;
      }
      const includeUsage = stream && body.stream_options?.include_usage === true && !model.includes('nousage');
      const cap = body.max_completion_tokens ?? body.max_tokens ?? 8;
      const k = Math.max(0, Math.min(Number(cap) || 0, 8));
      const n = Number.isSafeInteger(body.n) && body.n > 0 ? (body.n as number) : 1;
      const rawUsage = typeof body.fake_usage === 'string' ? (body.fake_usage as string) : null;
      const id = `chatcmpl-fake${++seq}`;
      const created = Math.floor(Date.now() / 1000);

      if (model.includes('error500')) {
        json(500, errorBody('The server had an error while processing your request. Sorry about that!', 'server_error'));
        return;
      }
      for (const code of [429, 408]) {
        if (model.includes(`error${code}`)) {
          json(code, errorBody(code === 429 ? 'Rate limit reached for requests.' : 'Request timed out.', code === 429 ? 'rate_limit_error' : 'timeout', null), code === 429 ? { 'retry-after': '30' } : {});
          return;
        }
      }
      if (model.includes('reset')) {
        selfClosed = true;
        req.socket.destroy();
        return;
      }
      if (model.includes('error400')) {
        json(400, errorBody("Invalid value for 'temperature': must be between 0 and 2.", 'invalid_request_error', 'invalid_value'));
        return;
      }

      const chunk = (delta: Record<string, unknown>, finish: string | null, index = 0) =>
        JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          system_fingerprint: 'fp_fake',
          choices: [{ index, delta, logprobs: null, finish_reason: finish }],
          ...(includeUsage ? { usage: null } : {}),
        });
      const usageJson = (completion: number) => rawUsage ?? JSON.stringify(usageFor(model, completion));
      const sse = (data: string) => res.write(`data: ${data}\n\n`);
      const wordDelta = (i: number) => (i === 0 ? { role: 'assistant', content: 'tok ', refusal: null } : { content: 'tok ' });
      const finishStream = (words: number, finish: string) => {
        for (let c = 0; c < n; c++) sse(chunk({}, finish, c));
        if (includeUsage) {
          const head = JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [] });
          sse(`${head.slice(0, -1)},"usage":${usageJson(words * n)}}`);
        }
        sse('[DONE]');
        res.end();
      };
      const startStream = () =>
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });

      const answer = () => {
        if (res.destroyed) return;
        if (!stream) {
          const message = { role: 'assistant', content: 'tok '.repeat(k), refusal: null, annotations: [] };
          const finish = k < 8 && cap < 8 ? 'length' : 'stop';
          const answerBody = JSON.stringify({
            id,
            object: 'chat.completion',
            created,
            model,
            choices: Array.from({ length: n }, (_, index) => ({ index, message, logprobs: null, finish_reason: finish })),
            service_tier: 'default',
            system_fingerprint: 'fp_fake',
          });
          json(200, model.includes('nousage') ? answerBody : `${answerBody.slice(0, -1)},"usage":${usageJson(k * n)}}`);
          return;
        }
        startStream();
        for (let i = 0; i < k; i++) for (let c = 0; c < n; c++) sse(chunk(wordDelta(i), null, c));
        finishStream(k, k < 8 && cap < 8 ? 'length' : 'stop');
      };

      const tool = model.includes('toolcall') && Array.isArray(body.tools) ? body.tools[0]?.function : undefined;
      if (tool) {
        const call = { id: `call_fake${seq}`, type: 'function', function: { name: tool.name, arguments: '{"city":"Paris"}' } };
        const u = rawUsage ?? JSON.stringify(usageFor(model, 5));
        if (!stream) {
          const message = { role: 'assistant', content: null, tool_calls: [call], refusal: null };
          const answerBody = JSON.stringify({ id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: 'tool_calls' }] });
          json(200, `${answerBody.slice(0, -1)},"usage":${u}}`);
          return;
        }
        startStream();
        sse(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, ...call, function: { name: tool.name, arguments: '' } }] }, null));
        for (const part of ['{"city":', '"Paris"}']) sse(chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] }, null));
        sse(chunk({}, 'tool_calls'));
        if (includeUsage) sse(`{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"${model}","choices":[],"usage":${u}}`);
        sse('[DONE]');
        res.end();
        return;
      }

      if (model.includes('cut')) {
        const destroy = () => {
          selfClosed = true;
          req.socket.destroy();
        };
        if (!stream) return destroy();
        startStream();
        for (let i = 0; i < 3; i++) sse(chunk(wordDelta(i), null));
        later(50, destroy); // let the three chunks reach the gateway first
        return;
      }

      if (model.includes('floodburst') && stream) {
        // Every chunk in one write: the gateway reads many events in one buffer.
        startStream();
        res.write(Array.from({ length: FLOOD_EVENTS }, (_, i) => `data: ${chunk(wordDelta(i), null).replace('"tok "', JSON.stringify(FLOOD_TEXT))}\n\n`).join(''));
        return finishStream(FLOOD_EVENTS * 40, 'stop');
      }
      if (model.includes('flood') && stream) {
        startStream();
        let sent = 0;
        const next = () => {
          if (res.destroyed) return;
          if (sent === FLOOD_EVENTS) return finishStream(sent * 40, 'stop');
          sse(chunk(wordDelta(sent++), null).replace('"tok "', JSON.stringify(FLOOD_TEXT)));
          later(2, next);
        };
        next();
        return;
      }

      if (model.includes('empty') && stream) {
        startStream();
        res.end();
        return;
      }

      if (model.includes('stall')) {
        if (stream) {
          startStream();
          sse(chunk(wordDelta(0), null));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(`{"id":"${id}","object":"chat.completion","choices":[`);
        }
        return; // silence until the client gives up
      }

      if (model.includes('huge')) {
        const piece = 'a'.repeat(4096);
        if (!stream) {
          const message = { role: 'assistant', content: piece.repeat(256) };
          json(200, JSON.stringify({ id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: 'stop' }] }));
          return;
        }
        startStream();
        for (let i = 0; i < 256; i++) sse(chunk({ content: piece }, null));
        sse(chunk({}, 'stop'));
        sse('[DONE]');
        res.end();
        return;
      }

      if (model.includes('slow')) {
        if (!stream) {
          const t = later(SLOW_TOTAL_MS, answer);
          res.on('close', () => cancel(t));
          return;
        }
        startStream();
        let sent = 0;
        sse(chunk(wordDelta(sent++), null));
        const started = Date.now();
        const iv = setInterval(() => {
          if (res.destroyed) return cancel(iv);
          if (Date.now() - started >= SLOW_TOTAL_MS) {
            cancel(iv);
            finishStream(sent, 'stop');
            return;
          }
          sse(chunk(wordDelta(sent++), null));
        }, SLOW_INTERVAL_MS);
        timers.add(iv);
        res.on('close', () => cancel(iv));
        return;
      }

      if (model.includes('delay')) {
        const t = later(delayOf(model), answer);
        res.on('close', () => cancel(t));
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
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    async close() {
      for (const t of timers) cancel(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
