import { BUSY, type Database } from '../db/index.ts';

// A floor older than this is read again, so a change made outside this process is seen within it.
const FLOOR_TTL_MS = 5_000;
import { heldByKeySql, heldByUserSql } from './hold-sql.ts';
import type { HoldRequest, PlacedHold } from './holds.ts';

/**
 * Holds of a single-process (SQLite) gateway. A hold is checked against the committed balance and key
 * usage read from the database plus the holds open in this process; the check and the reservation
 * happen in one synchronous step after the read, so two requests cannot both take the last points.
 * Settlement commits the charge first and drops the hold after, so the window between errs on the
 * side of refusing.
 */
export class MemoryHoldBook {
  private holds = new Map<string, { userId: number; keyId: number; amount: number }>();
  private byUser = new Map<number, number>();
  private byKey = new Map<number, number>();

  /**
   * A lower bound of each user's free balance (balance − held), so most holds need no read: taken
   * synchronously from committed data, then lowered by every charge and debit committed since
   * (noted by charged()). Credits are not noted; they only make the bound low, and a bound too low
   * for a hold is dropped and the hold checked against a fresh read.
   */
  private floors = new Map<number, { base: number; spent: number; at: number }>();

  constructor(private db: Database) {}

  /** Places the hold; `room` is what the user can still spend after it (a lower bound: the floor's). */
  async place(h: HoldRequest): Promise<PlacedHold> {
    if (!h.keyLimited) {
      const floor = this.floor(h.userId);
      if (floor !== null && floor - this.heldBy(h.userId) >= h.amount) {
        this.take(h);
        return { result: 'ok', room: floor - this.heldBy(h.userId) };
      }
      this.floors.delete(h.userId);
    }
    return this.placeAfterRead(h);
  }

  /** Notes a committed charge or debit against the user's floor. */
  charged(userId: number, amount: number): void {
    const f = this.floors.get(userId);
    if (f) f.spent += amount;
  }

  private floor(userId: number): number | null {
    const now = Date.now();
    let f = this.floors.get(userId);
    if (!f || now - f.at > FLOOR_TTL_MS) {
      const row = this.db.readNow?.<{ free: number }>(`SELECT balance - ${heldByUserSql('users.id')} AS free FROM users WHERE id = ?`, [userId]);
      if (row === undefined || row === BUSY) return null;
      f = { base: Number(row.free), spent: 0, at: now };
      this.floors.set(userId, f);
    }
    return f.base - f.spent;
  }

  private take(h: HoldRequest): void {
    this.holds.set(h.holdId, { userId: h.userId, keyId: h.keyId, amount: h.amount });
    this.byUser.set(h.userId, this.heldBy(h.userId) + h.amount);
    this.byKey.set(h.keyId, (this.byKey.get(h.keyId) ?? 0) + h.amount);
  }

  private async placeAfterRead(h: HoldRequest): Promise<PlacedHold> {
    // Hold rows are counted too: rows left by an earlier process until the start-up sweep clears them.
    const row = await this.db.get<{ balance: number; held: number; quota_limit: number | null; used: number | null; key_held: number | null }>(
      `SELECT u.balance, ${heldByUserSql('u.id')} AS held, k.quota_limit, k.used, ${heldByKeySql('k.id')} AS key_held
       FROM users u LEFT JOIN api_keys k ON k.id = ? AND k.user_id = u.id WHERE u.id = ?`,
      [h.keyId, h.userId],
    );
    if (!row) return { result: 'balance', room: 0 };
    if (row.used === null) return { result: 'key', room: 0 }; // the key was deleted meanwhile
    const free = Number(row.balance) - Number(row.held) - this.heldBy(h.userId);
    if (free < h.amount) return { result: 'balance', room: 0 };
    const keyRoom = row.quota_limit === null ? Infinity : Number(row.quota_limit) - Number(row.used) - Number(row.key_held) - (this.byKey.get(h.keyId) ?? 0);
    if (keyRoom < h.amount) return { result: 'key', room: 0 };
    this.take(h);
    return { result: 'ok', room: Math.min(free, keyRoom) - h.amount };
  }

  /**
   * Reserves points on the user's balance alone (no key), for a debit that is about to be written:
   * checked like a request hold, so a debit and concurrent holds cannot together overdraw.
   */
  async reserve(holdId: string, userId: number, amount: number): Promise<boolean> {
    const row = await this.db.get<{ balance: number; held: number }>(`SELECT balance, ${heldByUserSql('users.id')} AS held FROM users WHERE id = ?`, [userId]);
    if (!row || Number(row.balance) - Number(row.held) - this.heldBy(userId) < amount) return false;
    this.holds.set(holdId, { userId, keyId: 0, amount });
    this.byUser.set(userId, this.heldBy(userId) + amount);
    return true;
  }

  heldBy(userId: number): number {
    return this.byUser.get(userId) ?? 0;
  }

  drop(holdId: string): void {
    const h = this.holds.get(holdId);
    if (!h) return;
    this.holds.delete(holdId);
    const u = this.heldBy(h.userId) - h.amount;
    if (u === 0) this.byUser.delete(h.userId);
    else this.byUser.set(h.userId, u);
    if (h.keyId === 0) return;
    const k = (this.byKey.get(h.keyId) ?? 0) - h.amount;
    if (k === 0) this.byKey.delete(h.keyId);
    else this.byKey.set(h.keyId, k);
  }
}

const books = new WeakMap<Database, MemoryHoldBook>();

export function memoryHolds(db: Database): boolean {
  return db.dialect === 'sqlite';
}

export function memoryBook(db: Database): MemoryHoldBook {
  let book = books.get(db);
  if (!book) {
    book = new MemoryHoldBook(db);
    books.set(db, book);
  }
  return book;
}
