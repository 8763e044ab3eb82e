// The alerts a committed relay settlement calls for, judged in memory from what the settlement's own
// UPDATEs returned (each user's balance, each key's usage and limit after the batch) against the
// cached thresholds: no query on the relay's hot path, and only a crossing writes (an outbox row).
// Each alert is named by the request whose charge crossed, so a retried settlement enqueues it once.
import type { SettledBatch, SettlementEffects } from '../ledger/settlement-writer.ts';
import { alertDedupeKey, keyLimitCrossed, userAlertEntry } from '../notify/index.ts';
import type { OutboxEntry } from '../outbox/index.ts';
import { balanceAlertEntries, type BalanceChange, type ThresholdSource } from './balance-alerts.ts';

export function settlementAlerts(thresholds: ThresholdSource): SettlementEffects {
  return (batch) => [...balanceAlertEntries(balanceChanges(batch, thresholds), thresholds), ...keyLimitAlerts(batch)];
}

/**
 * One change per charged request of a user with a threshold: the balance before and after its charge,
 * in the order the requests finished (as in the usage log). Walked backwards from the balance after
 * the batch.
 */
function balanceChanges({ items, balances }: SettledBatch, thresholds: ThresholdSource): BalanceChange[] {
  const changes: BalanceChange[] = [];
  const running = new Map<number, number>();
  for (let i = items.length - 1; i >= 0; i--) {
    const s = items[i]!;
    if (s.cost <= 0 || thresholds.get(s.userId) === undefined) continue;
    const after = running.get(s.userId) ?? balances.get(s.userId);
    if (after === undefined) continue;
    running.set(s.userId, after + s.cost);
    changes.push({ userId: s.userId, before: after + s.cost, after, reference: s.log.requestId });
  }
  return changes;
}

/** The request whose charge takes a limited key's usage from below its limit to at or above it. */
function keyLimitAlerts({ items, keys }: SettledBatch): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  const running = new Map<number, number>();
  for (let i = items.length - 1; i >= 0; i--) {
    const s = items[i]!;
    const key = keys.get(s.keyId);
    if (s.cost <= 0 || !key || key.limit === null) continue;
    const after = running.get(s.keyId) ?? key.used;
    running.set(s.keyId, after - s.cost);
    if (!keyLimitCrossed(after - s.cost, after, key.limit)) continue;
    const event = { type: 'key_limit_exhausted' as const, keyId: s.keyId, keyName: s.log.keyName, used: after, limit: key.limit };
    out.push(userAlertEntry(s.userId, event, alertDedupeKey.keyLimit(s.keyId, s.log.requestId)));
  }
  return out;
}
