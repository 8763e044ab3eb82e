// A fake Anthropic upstream: a real HTTP server on 127.0.0.1 speaking the Messages API wire format
// (POST /v1/messages, JSON and SSE with Anthropic's event sequence, error bodies, usage placement).
// Like Anthropic it requires a key, as `x-api-key` or `Authorization: Bearer` (what
// @anthropic-ai/sdk 1.x sends; else 401 authentication_error), an `anthropic-version` header (else 400
// invalid_request_error), and `max_tokens` and `messages`.
// Behaviour is chosen by the model name, so parallel tests never interfere:
//   (default)  K = min(max_tokens, 8) words "tok ", usage {input 10, output K}; stop end_turn, or
//              max_tokens when the cap cut it
//   cached     usage.cache_read_input_tokens = 4, cache_creation_input_tokens = 2
//   tools      when the request has tools: text "Let me check." then a tool_use of the first tool
//              (id toolu_fake…, input {"location":"Paris"}), stop tool_use
//   thinking   when the request enables thinking: a thinking block (with a signature) first
//   error500   500 api_error;  overloaded: 529 overloaded_error;  error400: 400 invalid_request_error
//   error429   429 rate_limit_error with `retry-after: 7`
//   reset      the connection is reset before any answer
//   cut        stream: message_start and 3 deltas, then the socket is destroyed; JSON: reset at once
//   stall      stream: message_start and one delta, then silence until the client leaves;
//              JSON: never answers
//   delay      waits 300 ms (or N ms for `delayN`) then answers normally
//   floodburst stream: FLOOD_EVENTS deltas of FLOOD_TEXT and the usage, all in one write
//   flood      stream (a misbehaving provider ignoring max_tokens): up to FLOOD_EVENTS deltas of
//              FLOOD_TEXT, one every 2 ms, then the usage; stops early when the client leaves
import { startFakeServer, type FakeServer, type RecordedRequest } from './fake-http.ts';

export type FakeAnthropicRequest = RecordedRequest;
export type FakeAnthropic = FakeServer<FakeAnthropicRequest>;

const INPUT_TOKENS = 10;
export const FLOOD_TEXT = 'flood '.repeat(20);
export const FLOOD_EVENTS = 400;
const TOOL_INPUT_PARTS = ['{"location":', ' "Paris"}'];

const errorBody = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_fake' });

function usageFor(model: string, output: number) {
  const cached = model.includes('cached');
  return { input_tokens: INPUT_TOKENS, cache_creation_input_tokens: cached ? 2 : 0, cache_read_input_tokens: cached ? 4 : 0, output_tokens: output, service_tier: 'standard' };
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  let seq = 0;
  const jsonHeaders = () => ({ 'content-type': 'application/json', 'request-id': `req_fake${seq}` });
  return startFakeServer(
    (r) => r,
    ({ req, res, rec, parseFailed, json, destroy, later, delayed }) => {
      const { path, body } = rec;
      if (!req.headers['x-api-key'] && !/^Bearer \S+/.test(req.headers.authorization ?? '')) return json(401, errorBody('authentication_error', 'x-api-key header is required'));
      if (!req.headers['anthropic-version']) return json(400, errorBody('invalid_request_error', 'anthropic-version: header is required'));
      if (req.method !== 'POST' || path !== '/v1/messages') return json(404, errorBody('not_found_error', 'Not found'));
      if (parseFailed || typeof body !== 'object' || body === null) return json(400, errorBody('invalid_request_error', 'There was an error parsing the body of your request.'));
      if (typeof body.model !== 'string' || !Array.isArray(body.messages)) return json(400, errorBody('invalid_request_error', 'messages: Field required'));
      if (typeof body.max_tokens !== 'number') return json(400, errorBody('invalid_request_error', 'max_tokens: Field required'));

      const model: string = body.model;
      const stream = body.stream === true;
      const k = Math.max(0, Math.min(body.max_tokens, 8));
      const cutByCap = body.max_tokens < 8;
      const id = `msg_fake${++seq}`;
      const withTool = model.includes('tools') && Array.isArray(body.tools) && body.tools.length > 0;
      const withThinking = model.includes('thinking') && body.thinking?.type === 'enabled';
      const stopReason = withTool ? 'tool_use' : cutByCap ? 'max_tokens' : 'end_turn';
      const outputTokens = withTool ? 12 : k + (withThinking ? 3 : 0);

      if (model.includes('error500')) return json(500, errorBody('api_error', 'Internal server error'));
      if (model.includes('overloaded')) return json(529, errorBody('overloaded_error', 'Overloaded'));
      if (model.includes('error400')) return json(400, errorBody('invalid_request_error', 'temperature: range: 0..1'));
      if (model.includes('error429')) return json(429, errorBody('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), { 'retry-after': '7' });
      if (model.includes('reset')) return destroy();

      const toolBlock = () => ({ type: 'tool_use', id: `toolu_fake${seq}`, name: body.tools[0].name, input: { location: 'Paris' } });
      const answerJson = () => {
        const content: unknown[] = [];
        if (withThinking) content.push({ type: 'thinking', thinking: 'Thinking about it.', signature: 'sig_fake' });
        if (withTool) content.push({ type: 'text', text: 'Let me check.' }, toolBlock());
        else content.push({ type: 'text', text: 'tok '.repeat(k) });
        json(200, JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: usageFor(model, outputTokens) }));
      };

      const ev = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      const streamHead = () => {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': `req_fake${seq}` });
        const u = usageFor(model, 1);
        ev('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: u } });
      };
      const answerStream = () => {
        streamHead();
        let index = 0;
        if (withThinking) {
          ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
          ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: 'Thinking about it.' } });
          ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'sig_fake' } });
          ev('content_block_stop', { index: index++ });
        }
        ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
        ev('ping', {});
        if (withTool) ev('content_block_delta', { index, delta: { type: 'text_delta', text: 'Let me check.' } });
        else for (let i = 0; i < k; i++) ev('content_block_delta', { index, delta: { type: 'text_delta', text: 'tok ' } });
        ev('content_block_stop', { index: index++ });
        if (withTool) {
          const t = toolBlock();
          ev('content_block_start', { index, content_block: { ...t, input: {} } });
          for (const partial_json of TOOL_INPUT_PARTS) ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
          ev('content_block_stop', { index: index++ });
        }
        const u = usageFor(model, outputTokens);
        ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: u.output_tokens, input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, cache_read_input_tokens: u.cache_read_input_tokens } });
        ev('message_stop', {});
        res.end();
      };
      const answer = () => {
        if (res.destroyed) return;
        if (stream) answerStream();
        else answerJson();
      };

      if (model.includes('cut')) {
        if (!stream) return destroy();
        streamHead();
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        for (let i = 0; i < 3; i++) ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'tok ' } });
        later(50, destroy);
        return;
      }
      if (model.includes('floodburst') && stream) {
        // Every delta in one write: the gateway reads many events in one buffer.
        streamHead();
        res.cork();
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        for (let i = 0; i < FLOOD_EVENTS; i++) ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: FLOOD_TEXT } });
        ev('content_block_stop', { index: 0 });
        ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: FLOOD_EVENTS * 40 } });
        ev('message_stop', {});
        res.uncork();
        res.end();
        return;
      }
      if (model.includes('flood') && stream) {
        streamHead();
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        let sent = 0;
        const next = () => {
          if (res.destroyed) return;
          if (sent === FLOOD_EVENTS) {
            ev('content_block_stop', { index: 0 });
            ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: sent * 40 } });
            ev('message_stop', {});
            res.end();
            return;
          }
          sent++;
          ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: FLOOD_TEXT } });
          later(2, next);
        };
        next();
        return;
      }
      if (model.includes('stall')) {
        if (!stream) return; // never answers; the client's timeout ends it
        streamHead();
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'tok ' } });
        return;
      }
      if (model.includes('delay')) return delayed(Number(/delay(\d+)/.exec(model)?.[1] ?? 300), answer);
      answer();
    },
    jsonHeaders,
  );
}
