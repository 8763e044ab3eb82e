import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Channel } from '../channels/registry.ts';
import { answerTranslated, speaksOpenAI, translatedBodies, type Caller } from './chat-translated.ts';
import type { Gateway } from '../gateway.ts';
import { authorize } from './auth.ts';
import type { RequestBill } from './bill.ts';
import { attemptOptions, runHeld } from './pipeline.ts';
import { readBody } from './body.ts';
import { openAIErrorBody, RelayError } from './respond.ts';
import { pipeStream } from './stream.ts';
import { parseChatRequest, upstreamBody, type ChatRequest } from './chat-request.ts';
import { readJsonAnswer } from './read-limited.ts';
import { completionText, countTokens, estimatePromptTokens } from './tokens.ts';
import { callUpstream, isRefusal } from './upstream.ts';
import { readOpenAIUsage } from './usage.ts';

export async function chatCompletions(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const chat = parseChatRequest(await readBody(req, gw.config.MAX_BODY_BYTES));
  const held = { model: chat.model, stream: chat.stream, bodyBytes: chat.raw.length, maxTokens: chat.maxTokens, choices: chat.choices };
  await runHeld(gw, auth, held, res, startedAt, createdAt, (channels, bill, signal) => relay(gw, chat, channels, bill, res, signal));
}

async function relay(gw: Gateway, chat: ChatRequest, channels: Channel[], bill: RequestBill, res: ServerResponse, signal: AbortSignal) {
  const passthrough = upstreamBody(chat);
  // Only a list with a non-OpenAI channel pays for the translating body function.
  const caller = channels.every(speaksOpenAI) ? null : translatingCaller(chat);
  const body = caller ? translatedBodies(gw, caller, bill, passthrough) : passthrough;
  const result = await callUpstream(channels, { ...attemptOptions(gw, signal), body, call: { model: chat.model, stream: chat.stream } });
  bill.channel = result.channel;
  bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
  const idHeader = { 'x-moleapi-request-id': bill.ctx.requestId };
  if (!speaksOpenAI(result.channel)) return answerTranslated(gw, caller ?? translatingCaller(chat), result, bill, res, signal, idHeader);
  if (isRefusal(result)) {
    // The provider refused the caller's input: nothing was generated, so nothing is charged.
    await bill.release(result.status, `upstream refused: HTTP ${result.status}`);
    res.writeHead(result.status, { 'content-type': result.contentType, 'content-length': result.body.length, ...idHeader });
    res.end(result.body);
    return;
  }
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (chat.stream && contentType.includes('text/event-stream')) {
    await pipeStream(chat.body.messages, result.response.body, bill, res, signal, !chat.wantsUsage, idHeader);
    return;
  }
  const { buf, parsed } = await readJsonAnswer(result.response, gw.config.MAX_RESPONSE_BYTES);
  const reading = readOpenAIUsage(parsed?.usage);
  if (reading.kind === 'invalid') bill.warnInvalidUsage(reading.reason);
  const usage =
    reading.kind === 'usage'
      ? reading.usage
      : { promptTokens: await estimatePromptTokens(chat.body.messages), completionTokens: await countTokens(completionText(parsed)), cachedTokens: 0 };
  await bill.charge(usage, { estimated: reading.kind !== 'usage', status: 200 });
  res.writeHead(200, { 'content-type': contentType || 'application/json', 'content-length': buf.length, ...idHeader });
  res.end(buf);
}


function translatingCaller(chat: ChatRequest): Caller {
  return {
    protocol: 'openai',
    body: chat.body,
    model: chat.model,
    stream: chat.stream,
    maxTokens: chat.maxTokens,
    includeUsage: chat.wantsUsage,
    errorBody: (status, message) => openAIErrorBody(new RelayError(status, 'upstream_refused', message)),
    promptEstimate: () => estimatePromptTokens(chat.body.messages),
  };
}
