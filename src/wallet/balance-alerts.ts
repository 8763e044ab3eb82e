// Balance-low alerts from balance changes: the change that takes a balance from at-or-above the
// user's threshold to below it enqueues one alert, in the caller's transaction (so the alert exists
// exactly when the change committed; the relay's settlement: settlement-alerts.ts). Once per crossing follows from the rule itself: only the one
// entry that crosses alerts, and the ledger reference as dedupe key stops a retried change.
import type { Queryable } from '../db/index.ts';
import type { LedgerEntry } from '../ledger/entries.ts';
import { enqueue, type OutboxEntry } from '../outbox/index.ts';
import { alertDedupeKey, balanceCrossedBelow, userAlertEntry } from '../notify/index.ts';
import type { AlertThresholds } from './alert-thresholds.ts';

export interface BalanceChange {
  userId: number;
  before: number;
  after: number;
  /** The ledger reference (or request id) of the change: makes a retried change enqueue once. */
  reference?: string;
}

/** Where thresholds come from: the in-memory book (no query), or else one query for the users concerned. */
export type ThresholdSource = Pick<AlertThresholds, 'get'>;

/** The balance-low alerts these changes cross into, judged in memory (no query, no write). */
export function balanceAlertEntries(changes: readonly BalanceChange[], thresholds: ThresholdSource): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const c of changes) {
    const threshold = thresholds.get(c.userId);
    if (threshold === undefined || !balanceCrossedBelow(c.before, c.after, threshold)) continue;
    const dedupe = c.reference ? alertDedupeKey.balanceLow(c.userId, c.reference) : undefined;
    out.push(userAlertEntry(c.userId, { type: 'balance_low', balance: c.after, threshold }, dedupe));
  }
  return out;
}

/**
 * Enqueues the balance-low alerts these changes cross into; returns how many rows it added. Only
 * falling balances are looked at. With `thresholds` (the gateway's book: `alertThresholds(db)`) it
 * runs no query unless a change crosses, which then writes its outbox row; without it, one query
 * reads the thresholds of the users whose balance fell. Users without notification settings get no
 * alerts. Meant for the relay settlement: call it in the settlement's transaction with the balances
 * it already returns, and kick the outbox after the commit.
 */
export async function balanceAlertsAfterSettlement(q: Queryable, changes: readonly BalanceChange[], thresholds?: ThresholdSource): Promise<number> {
  const falling = changes.filter((c) => c.after < c.before);
  if (falling.length === 0) return 0;
  const source = thresholds ?? (await queryThresholds(q, falling));
  let added = 0;
  for (const e of balanceAlertEntries(falling, source)) if ((await enqueue(q, e)) !== null) added++;
  return added;
}

async function queryThresholds(q: Queryable, falling: readonly BalanceChange[]): Promise<ThresholdSource> {
  const ids = [...new Set(falling.map((c) => c.userId))];
  const rows = await q.all<{ user_id: number; threshold_quota: number }>(
    `SELECT user_id, threshold_quota FROM notification_settings WHERE user_id IN (${ids.map(() => '?').join(', ')})`,
    ids,
  );
  return new Map(rows.map((r) => [Number(r.user_id), Number(r.threshold_quota)]));
}

/** The same for one ledger entry, in its transaction (its balance before is balanceAfter − amount). */
export function balanceAlertsAfterEntry(q: Queryable, e: LedgerEntry, thresholds?: ThresholdSource): Promise<number> {
  return balanceAlertsAfterSettlement(q, [{ userId: e.userId, before: e.balanceAfter - e.amount, after: e.balanceAfter, reference: e.reference }], thresholds);
}
