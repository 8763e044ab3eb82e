import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyAuth } from '../accounts/key-cache.ts';
import { orderForAttempts, type Channel } from '../channels/registry.ts';
import type { Gateway } from '../gateway.ts';
import { placeHold } from '../ledger/holds.ts';
import { holdFor, outputCapPerChoice } from '../pricing/cost.ts';
import { timeOrderedId } from '../lib/ids.ts';
import { authorize } from './auth.ts';
import { RequestBill } from './bill.ts';
import { readBody } from './body.ts';
import { RelayError } from './respond.ts';
import { pipeStream } from './stream.ts';
import { parseChatRequest, upstreamBody, type ChatRequest } from './chat-request.ts';
import { readLimited } from './read-limited.ts';
import { completionText, countTokens, estimatePromptTokens } from './tokens.ts';
import { callUpstream, isRefusal } from './upstream.ts';
import { readOpenAIUsage } from './usage.ts';

export async function chatCompletions(gw: Gateway, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  const startedAt = performance.now();
  const createdAt = Date.now();
  const auth = await authorize(req, query, gw.keys, gw.config.TRUST_PROXY);
  const chat = parseChatRequest(await readBody(req, gw.config.MAX_BODY_BYTES));
  const { key } = auth;
  if (!auth.allowModel(chat.model)) {
    throw new RelayError(403, 'model_not_allowed', `This API key may not use model "${chat.model}". Allowed: ${key.models.join(', ')}.`, 'permission_error', 'model');
  }
  const price = gw.pricing.prices.get(chat.model);
  const group = gw.pricing.groups.get(key.group);
  const serving = gw.channels.serving(key.group, chat.model);
  if (!price || !group || serving.length === 0) {
    throw new RelayError(404, 'model_not_found', `The model "${chat.model}" does not exist or is not available in group "${key.group}". See GET /v1/models.`, 'not_found_error', 'model');
  }
  const channels = orderForAttempts(serving);
  if (channels.length === 0) throw new RelayError(503, 'no_available_channel', `No enabled channel serves "${chat.model}" right now. Try again later.`, 'upstream_error');

  const requestId = timeOrderedId();
  const perChoice = outputCapPerChoice(chat.maxTokens, price.maxOutputTokens, gw.settings.current.defaultMaxOutputTokens);
  const amount = holdFor(price, group.multiplier, chat.raw.length, perChoice, chat.choices);
  // n × max_tokens can be astronomically large: no balance covers it, and the database must never see it.
  if (!Number.isSafeInteger(amount)) throw insufficient('balance', amount, auth);
  const held = await placeHold(gw.db, { holdId: requestId, userId: auth.userId, keyId: key.id, amount, instanceId: gw.instanceId, keyLimited: key.quotaLimit !== null });
  if (held !== 'ok') throw insufficient(held, amount, auth);

  const bill = new RequestBill(gw, {
    requestId,
    userId: auth.userId,
    keyId: key.id,
    keyName: key.name,
    model: chat.model,
    group: key.group,
    stream: chat.stream,
    price,
    multiplier: group.multiplier,
    createdAt,
    startedAt,
  });
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  if (res.destroyed) abort.abort(); // the caller left while we were placing the hold
  try {
    await relay(gw, chat, channels, bill, res, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) {
      await bill.release(499, 'client closed the connection before the answer');
      return;
    }
    const e = err instanceof RelayError ? err : new RelayError(502, 'upstream_error', 'The upstream provider failed. Try again later.', 'upstream_error');
    await bill.release(e.status, e.message);
    if (!(err instanceof RelayError)) gw.log.warn({ err, requestId }, 'upstream call failed');
    throw e;
  }
}

function insufficient(reason: 'balance' | 'key', amount: number, auth: KeyAuth): RelayError {
  const message =
    reason === 'balance'
      ? `Your balance is too low for this request (it needs up to ${amount} points available). Top up in the console's Wallet page, or lower max_tokens.`
      : `API key "${auth.key.name}" has reached its quota limit (this request needs up to ${amount} points). Raise the key's limit or use another key.`;
  return new RelayError(429, 'insufficient_quota', message, 'insufficient_quota');
}

async function relay(gw: Gateway, chat: ChatRequest, channels: Channel[], bill: RequestBill, res: ServerResponse, signal: AbortSignal) {
  const result = await callUpstream(channels, {
    pools: gw.pools,
    path: '/chat/completions',
    maxAttempts: gw.config.UPSTREAM_MAX_ATTEMPTS,
    headersTimeoutMs: gw.config.UPSTREAM_TIMEOUT_MS,
    bodyTimeoutMs: gw.config.UPSTREAM_BODY_TIMEOUT_MS,
    maxResponseBytes: gw.config.MAX_RESPONSE_BYTES,
    signal,
    body: upstreamBody(chat),
  });
  bill.channel = result.channel;
  bill.firstTokenMs = Math.round(performance.now() - bill.ctx.startedAt);
  const idHeader = { 'x-moleapi-request-id': bill.ctx.requestId };
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
  const buf = await readLimited(result.response.body, gw.config.MAX_RESPONSE_BYTES, result.response.headers['content-length']);
  let parsed: any;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new RelayError(502, 'upstream_error', 'The upstream provider sent an answer that is not JSON.', 'upstream_error');
  }
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

