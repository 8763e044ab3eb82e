import type { Database } from '../db/index.ts';
import type { UsageLogRow } from '../logs/usage-log.ts';
import { memoryBook, memoryHolds } from './memory-holds.ts';
import { SettlementWriter, type Settlement } from './settlement-writer.ts';

export type { Settlement };

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
  /** The key has a quota limit (its remaining quota must then be read). */
  keyLimited: boolean;
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
    await db.tx(async (q) => {
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

const writers = new WeakMap<Database, SettlementWriter>();

/** The settlement writer of a database (one per process and database). */
export function settlementWriter(db: Database): SettlementWriter {
  let w = writers.get(db);
  if (!w) {
    const inMemory = memoryHolds(db);
    w = new SettlementWriter(db, !inMemory, (items) => {
      if (!inMemory) return;
      const book = memoryBook(db);
      for (const s of items) {
        book.charged(s.userId, s.cost); // before the hold goes, so the two never free the same points
        book.drop(s.holdId);
      }
    });
    writers.set(db, w);
  }
  return w;
}

/**
 * Drops the hold, charges the cost, writes the ledger entry and the usage-log row — in one transaction,
 * shared with the other requests settling at the same moment. Resolves after the commit.
 */
export function settle(db: Database, s: Settlement): Promise<void> {
  return settlementWriter(db).settle(s);
}

/** Releases a hold without charging (the request failed before anything was delivered). */
export function release(db: Database, r: { holdId: string; userId: number; keyId: number; log: UsageLogRow }): Promise<void> {
  return settle(db, { ...r, cost: 0 });
}

