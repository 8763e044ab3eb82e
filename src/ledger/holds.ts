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

/**
 * The PostgreSQL hold in ONE statement, so no row lock is held across round trips: reserve on the user
 * (locks the user row), then on the key (locks the key row: users before keys, the order every writer
 * uses), then insert the hold row. Each step runs only if the one before it took effect.
 *
 * The user's update also requires the key to have room as this statement's snapshot sees it, so a key
 * at its limit is refused without touching the user (refusals are the common case under a limit). The
 * key's own update then checks its latest row under its lock; if only that check fails (a race at the
 * limit), the statement divides by zero on purpose: the error rolls the whole statement back, so the
 * user's reservation cannot outlive the refusal.
 *
 * Its commit does not wait for the disk (db.relaxed): a database crash may lose the last moments of
 * holds, never a charge. A settlement whose hold row is gone charges in full and releases nothing, so
 * the books stay exact; the requests in flight at the crash merely ran unreserved.
 */
const PLACE_HOLD_PG = `WITH u AS (
    UPDATE users SET held = held + $1::bigint
    WHERE id = $2::bigint AND balance - held >= $1::bigint
      AND EXISTS (SELECT 1 FROM api_keys WHERE id = $3::bigint AND (quota_limit IS NULL OR quota_limit - used - held >= $1::bigint))
    RETURNING id
  ), k AS (
    UPDATE api_keys SET held = held + $1::bigint
    WHERE id = $3::bigint AND EXISTS (SELECT 1 FROM u) AND (quota_limit IS NULL OR quota_limit - used - held >= $1::bigint)
    RETURNING id
  ), h AS (
    INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at)
    SELECT $4::text, $2::bigint, $3::bigint, $1::bigint, $5::text, $6::bigint WHERE EXISTS (SELECT 1 FROM k)
    RETURNING id
  )
  SELECT CASE WHEN EXISTS (SELECT 1 FROM h) THEN 'ok'
              WHEN EXISTS (SELECT 1 FROM u) THEN CAST(1 / (SELECT COUNT(*) FROM k) AS TEXT)
              WHEN EXISTS (SELECT 1 FROM api_keys WHERE id = $3::bigint AND (quota_limit IS NULL OR quota_limit - used - held >= $1::bigint)) THEN 'balance'
              ELSE 'key' END AS result`;
const KEY_REFUSED = '22012'; // division_by_zero, raised only by the statement above when the key refused

export async function placeHold(db: Database, h: HoldRequest): Promise<HoldResult> {
  if (memoryHolds(db)) return memoryBook(db).place(h);
  try {
    const row = await (db.relaxed ?? db).get<{ result: HoldResult }>(PLACE_HOLD_PG, [h.amount, h.userId, h.keyId, h.holdId, h.instanceId, Date.now()]);
    return row!.result;
  } catch (err) {
    if ((err as { code?: string }).code === KEY_REFUSED) return 'key';
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

