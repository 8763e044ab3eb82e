// The one path every relay endpoint takes once it knows the caller's key and request: model checks,
// channel order, the hold, then the endpoint's attempts, and RequestBill as the only exit (each
// request is either charged or its hold released, whatever ends it: success, upstream failure,
// the caller leaving). Endpoints differ only in how they parse the caller's body, talk to a channel
// and write the answer; that is the `run` callback.
import type { ServerResponse } from 'node:http';
import type { KeyAuth } from '../accounts/key-cache.ts';
import { orderForAttempts, type Channel } from '../channels/registry.ts';
import type { Gateway } from '../gateway.ts';
import { placeHoldWithRoom } from '../ledger/holds.ts';
import { timeOrderedId } from '../lib/ids.ts';
import { holdFor, outputCapPerChoice } from '../pricing/cost.ts';
import { RequestBill } from './bill.ts';
import { RelayError } from './respond.ts';
import { promptUpperBound, SpendCeiling } from './spend-ceiling.ts';

/** What the pipeline needs to know about a request before any upstream call. */
export interface HeldRequest {
  model: string;
  stream: boolean;
  /** Size of the caller's body: the hold's prompt estimate. */
  bodyBytes: number;
  /** The caller's output cap (max_tokens …), or null. */
  maxTokens: number | null;
  /** Choices the upstream may generate (n / best_of); 1 for protocols without them. */
  choices: number;
  /** Per-request units a per-request price is held for (rerank search units); absent: one. */
  units?: number;
  /** Channels this endpoint can talk to (by type); undefined: every type. */
  accepts?: (channel: Channel) => boolean;
}

/** The endpoint's part: call channels in order, answer the caller, and charge or release `bill`. */
export type RelayRun = (channels: Channel[], bill: RequestBill, signal: AbortSignal) => Promise<void>;

export async function runHeld(gw: Gateway, auth: KeyAuth, r: HeldRequest, res: ServerResponse, startedAt: number, createdAt: number, run: RelayRun): Promise<void> {
  const { key } = auth;
  if (!auth.allowModel(r.model)) {
    throw new RelayError(403, 'model_not_allowed', `This API key may not use model "${r.model}". Allowed: ${key.models.join(', ')}.`, 'permission_error', 'model');
  }
  const price = gw.pricing.prices.get(r.model);
  const group = gw.pricing.groups.get(key.group);
  let serving = gw.channels.serving(key.group, r.model);
  // Only allocate a filtered list when some channel is of a type this endpoint cannot use.
  if (r.accepts && !serving.every(r.accepts)) serving = serving.filter(r.accepts);
  if (!price || !group || serving.length === 0) {
    throw new RelayError(404, 'model_not_found', `The model "${r.model}" does not exist or is not available in group "${key.group}". See GET /v1/models.`, 'not_found_error', 'model');
  }
  const channels = gw.health.deferCooling(orderForAttempts(serving));
  if (channels.length === 0) throw new RelayError(503, 'no_available_channel', `No enabled channel serves "${r.model}" right now. Try again later.`, 'upstream_error');

  const requestId = timeOrderedId();
  const perChoice = outputCapPerChoice(r.maxTokens, price.maxOutputTokens, gw.settings.current.defaultMaxOutputTokens);
  const amount = holdFor(price, group.multiplier, r.bodyBytes, perChoice, r.choices, r.units);
  // n × max_tokens can be astronomically large: no balance covers it, and the database must never see it.
  if (!Number.isSafeInteger(amount)) throw insufficient('balance', amount, auth);
  const held = await placeHoldWithRoom(gw.db, { holdId: requestId, userId: auth.userId, keyId: key.id, amount, instanceId: gw.instanceId, keyLimited: key.quotaLimit !== null });
  if (held.result !== 'ok') throw insufficient(held.result, amount, auth);

  const bill = new RequestBill(gw, {
    requestId,
    userId: auth.userId,
    keyId: key.id,
    keyName: key.name,
    model: r.model,
    group: key.group,
    stream: r.stream,
    price,
    multiplier: group.multiplier,
    createdAt,
    startedAt,
  });
  // A stream may cost at most what the caller could spend when it started (see spend-ceiling.ts).
  if (r.stream) bill.spend = new SpendCeiling(price, group.multiplier, amount + held.room, promptUpperBound(r.bodyBytes));
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  if (res.destroyed) abort.abort(); // the caller left while we were placing the hold
  try {
    await run(channels, bill, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) {
      await bill.release(499, 'client closed the connection before the answer');
      return;
    }
    if (!(err instanceof RelayError)) bill.upstreamFailed(`upstream answer failed: ${(err as Error)?.message ?? err}`);
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

/** The upstream settings every endpoint's attempts use. */
export function attemptOptions(gw: Gateway, signal: AbortSignal) {
  return {
    pools: gw.pools,
    keys: gw.channels.rotation,
    maxAttempts: gw.config.UPSTREAM_MAX_ATTEMPTS,
    headersTimeoutMs: gw.config.UPSTREAM_TIMEOUT_MS,
    bodyTimeoutMs: gw.config.UPSTREAM_BODY_TIMEOUT_MS,
    maxResponseBytes: gw.config.MAX_RESPONSE_BYTES,
    health: gw.health,
    signal,
  };
}
