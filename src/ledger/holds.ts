import type { Database, Queryable } from '../db/index.ts';
import { insertUsageLog, type UsageLogRow } from '../logs/usage-log.ts';
import { writeEntry } from './entries.ts';
import { memoryBook, memoryHolds } from './memory-holds.ts';

/**
 * Holds reserve a request's maximum cost on the user's available balance (balance − held) and on the
 * key's limit (quota_limit − used − held) before the upstream call. They are not ledger entries: the
 * balance only moves at settlement, by exactly the cost, in the same transaction as the ledger entry
 * and the usage-log row.
 *
 * On PostgreSQL (possibly several instances) holds are rows plus `held` columns, changed with
 * conditional updates. On SQLite one process owns the database, so holds live in that process's
 * memory (see memory-holds.ts): a crash cannot strand them, and the request path saves a write.
 */
export interface HoldRequest {
  holdId: string;
  userId: number;
  keyId: number;
  amount: number;
  instanceId: string;
}

export type HoldResult = 'ok' | 'balance' | 'key';

class HoldRefused extends Error {
  constructor(readonly reason: 'balance' | 'key') {
    super(reason);
  }
}

export async function placeHold(db: Database, h: HoldRequest): Promise<HoldResult> {
  if (memoryHolds(db)) return memoryBook(db).place(h);
  try {
    await db.batchTx(async (q) => {
      const user = await q.run('UPDATE users SET held = held + ? WHERE id = ? AND balance - held >= ?', [h.amount, h.userId, h.amount]);
      if (user.changes !== 1) throw new HoldRefused('balance');
      const key = await q.run(
        'UPDATE api_keys SET held = held + ? WHERE id = ? AND (quota_limit IS NULL OR quota_limit - used - held >= ?)',
        [h.amount, h.keyId, h.amount],
      );
      if (key.changes !== 1) throw new HoldRefused('key');
      await q.run('INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        h.holdId,
        h.userId,
        h.keyId,
        h.amount,
        h.instanceId,
        Date.now(),
      ]);
    });
    return 'ok';
  } catch (err) {
    if (err instanceof HoldRefused) return err.reason;
    throw err;
  }
}

/** What the user has on hold right now, beyond the `held` column (holds kept in memory). */
export function heldInMemory(db: Database, userId: number): number {
  return memoryHolds(db) ? memoryBook(db).heldBy(userId) : 0;
}

/** Removes the hold row and returns what it still reserved (0 if a sweeper already released it). */
async function takeHold(q: Queryable, holdId: string): Promise<number> {
  const row = await q.get<{ amount: number }>('DELETE FROM holds WHERE id = ? RETURNING amount', [holdId]);
  return row ? Number(row.amount) : 0;
}

export interface Settlement {
  holdId: string;
  userId: number;
  keyId: number;
  /** Real cost in points. May exceed the hold: the request was served, so it is charged in full. */
  cost: number;
  log: UsageLogRow;
}

/** One transaction: drop the hold, charge the cost, write the ledger entry and the usage-log row. */
export async function settle(db: Database, s: Settlement): Promise<void> {
  const inMemory = memoryHolds(db);
  try {
    await db.batchTx(async (q) => {
      const held = inMemory ? 0 : await takeHold(q, s.holdId);
      const now = Date.now();
      // A request counts once it succeeded or was billed (a stream cut after delivering tokens).
      const counted = s.log.status < 400 || s.cost > 0 ? 1 : 0;
      const user = await q.get<{ balance: number }>(
        `UPDATE users SET balance = balance - ?, held = held - ?, used = used + ?, request_count = request_count + ?
         WHERE id = ? RETURNING balance`,
        [s.cost, held, s.cost, counted, s.userId],
      );
      if (!user) throw new Error(`settle: user ${s.userId} vanished`);
      if (s.cost > 0) {
        await writeEntry(q, {
          userId: s.userId,
          kind: 'usage',
          amount: -s.cost,
          balanceAfter: Number(user.balance),
          reference: `req:${s.holdId}`,
          note: s.log.model,
        });
      }
      await q.run(
        'UPDATE api_keys SET used = used + ?, held = held - ?, request_count = request_count + ?, last_used_at = ? WHERE id = ?',
        [s.cost, held, counted, now, s.keyId],
      );
      await insertUsageLog(q, s.log);
    });
  } finally {
    // Only now may the reservation go: the charge is committed (or failed and the hold is moot).
    if (inMemory) memoryBook(db).drop(s.holdId);
  }
}

/** Releases a hold without charging (the request failed before anything was delivered). */
export function release(db: Database, r: { holdId: string; userId: number; keyId: number; log: UsageLogRow }): Promise<void> {
  return settle(db, { ...r, cost: 0 });
}

