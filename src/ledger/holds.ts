import type { Database } from '../db/index.ts';
import type { UsageLogRow } from '../logs/usage-log.ts';
import { HoldBatcher } from './hold-batch.ts';
import { memoryBook, memoryHolds } from './memory-holds.ts';
import { SettlementWriter, type Settlement } from './settlement-writer.ts';

export type { Settlement };

/**
 * Holds reserve a request's maximum cost on the user's available balance (balance − held) and on the
 * key's limit (quota_limit − used − held) before the upstream call. They are not ledger entries: the
 * balance only moves at settlement, by exactly the cost, in the same transaction as the ledger entry
 * and the usage-log row.
 *
 * On PostgreSQL (possibly several instances) holds are rows; what is held is their sum (hold-sql.ts). On SQLite one process owns the database, so holds live in that process's
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
 * The PostgreSQL hold: one call of place_hold (hold-sql.ts), which serialises holds per account with
 * advisory locks and checks the committed balance and key usage against the sum of the live hold rows.
 * It never locks or writes a users / api_keys row, so it never waits for a settlement's disk flush.
 * Holds that arrive while the instance's hold calls are busy (or their user has one in flight) queue
 * in the instance and go together in one place_holds_across call, decided in arrival order (hold-batch.ts).
 *
 * Its commit does not wait for the disk (db.relaxed): a database crash may lose the last moments of
 * holds, never a charge. A settlement whose hold row is gone charges in full and releases nothing, so
 * the books stay exact; the requests in flight at the crash merely ran unreserved.
 */

export async function placeHold(db: Database, h: HoldRequest): Promise<HoldResult> {
  return (await placeHoldWithRoom(db, h)).result;
}

/** A hold's result and, when placed, the points still available after it (a lower bound; 0 otherwise). */
export interface PlacedHold {
  result: HoldResult;
  room: number;
}

/** placeHold, also telling what the account can still spend beyond this hold (read in the same step). */
export async function placeHoldWithRoom(db: Database, h: HoldRequest): Promise<PlacedHold> {
  if (memoryHolds(db)) return memoryBook(db).place(h);
  const [result, room] = (await holdBatcher(db).place(h)).split(':');
  return { result: result as HoldResult, room: Math.max(0, Number(room ?? 0) || 0) };
}

const batchers = new WeakMap<Database, HoldBatcher>();

/** The hold queue of a PostgreSQL database (one per process and database). */
function holdBatcher(db: Database): HoldBatcher {
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new HoldBatcher(db.relaxed ?? db)));
  return b;
}

/** What the user has on hold in this process's memory, beyond the hold rows (SQLite). */
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

