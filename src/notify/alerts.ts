// When to alert (pure). An alert fires once per crossing into the alerting condition and is re-armed
// only once the condition has cleared again, whatever happens in between.

/** Per user (balance) or per key (limit): true from an alert until the condition clears. */
export interface AlertState {
  alerted: boolean;
}

export const INITIAL_ALERT_STATE: AlertState = { alerted: false };

export interface AlertDecision {
  alert: boolean;
  state: AlertState;
}

function decide(state: AlertState, condition: boolean): AlertDecision {
  if (condition && !state.alerted) return { alert: true, state: { alerted: true } };
  return { alert: false, state: { alerted: condition && state.alerted } };
}

/** Balance below threshold. A threshold of null or ≤ 0 turns balance alerts off (and re-arms them). */
export function decideBalanceAlert(state: AlertState, balance: number, threshold: number | null): AlertDecision {
  if (threshold === null || threshold <= 0) return { alert: false, state: INITIAL_ALERT_STATE };
  return decide(state, balance < threshold);
}

/**
 * The same rule from one balance change alone (before → after, e.g. a ledger entry's balance_after
 * and amount): the change that takes the balance from at-or-above to below the threshold alerts.
 * Since every change is a ledger entry, exactly one entry crosses per fall below the threshold.
 */
export function balanceCrossedBelow(before: number, after: number, threshold: number | null): boolean {
  if (threshold === null || threshold <= 0) return false;
  return before >= threshold && after < threshold;
}

/** A key's quota limit used up (used ≥ limit). A null limit (unlimited) never alerts. */
export function decideKeyLimitAlert(state: AlertState, used: number, limit: number | null): AlertDecision {
  if (limit === null) return { alert: false, state: INITIAL_ALERT_STATE };
  return decide(state, used >= limit);
}

export function keyLimitCrossed(usedBefore: number, usedAfter: number, limit: number | null): boolean {
  if (limit === null) return false;
  return usedBefore < limit && usedAfter >= limit;
}

/** A key expired: true once now has reached expiresAt (the job is scheduled with runAt = expiresAt). */
export function keyHasExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && now >= expiresAt;
}
