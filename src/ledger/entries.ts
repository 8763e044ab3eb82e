import { randomUUID } from 'node:crypto';
import { isUniqueViolation, type Database, type Queryable } from '../db/index.ts';
import { auditLedger, type AuditProblem } from './audit.ts';
import { heldByUserSql, lockHoldsOf } from './hold-sql.ts';
import { memoryBook, memoryHolds } from './memory-holds.ts';

export type EntryKind = 'trial' | 'adjustment' | 'usage' | 'topup' | 'redemption' | 'referral';

export interface LedgerEntry {
  id: number;
  userId: number;
  kind: EntryKind;
  amount: number;
  balanceAfter: number;
  reference: string;
  note: string | null;
  createdAt: number;
}

export interface EntryInput {
  userId: number;
  kind: EntryKind;
  amount: number;
  reference: string;
  note?: string | null;
  /** When true (the default for debits) the entry is refused if it would take the balance below zero. */
  keepNonNegative?: boolean;
}

export class InsufficientBalanceError extends Error {
  constructor() {
    super('balance would go below zero');
  }
}
export class UnknownAccountError extends Error {
  constructor(userId: number) {
    super(`no account ${userId}`);
  }
}

function toEntry(r: Record<string, any>): LedgerEntry {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    kind: r.kind,
    amount: Number(r.amount),
    balanceAfter: Number(r.balance_after),
    reference: r.reference,
    note: r.note ?? null,
    createdAt: Number(r.created_at),
  };
}

/**
 * Changes a balance and writes its ledger entry inside the caller's transaction. The balance update is
 * conditional (no read-modify-write) and the entry's unique reference makes a retry fail instead of
 * applying twice. Debits go through postEntry (or the settlement writer), which tell the in-memory
 * holds about them; a debit written here directly would leave their balance floor too high.
 */
export async function applyEntry(q: Queryable, e: EntryInput): Promise<LedgerEntry> {
  if (!Number.isSafeInteger(e.amount)) throw new Error('ledger amounts are safe integers');
  const guard = e.keepNonNegative ?? e.amount < 0;
  const row = await q.get<{ balance: number }>(
    guard
      ? `UPDATE users SET balance = balance + ? WHERE id = ? AND balance - ${heldByUserSql('users.id')} + ? >= 0 RETURNING balance`
      : 'UPDATE users SET balance = balance + ? WHERE id = ? RETURNING balance',
    guard ? [e.amount, e.userId, e.amount] : [e.amount, e.userId],
  );
  if (!row) {
    const exists = await q.get('SELECT id FROM users WHERE id = ?', [e.userId]);
    if (!exists) throw new UnknownAccountError(e.userId);
    throw new InsufficientBalanceError();
  }
  return insertEntry(q, { ...e, balanceAfter: Number(row.balance) });
}

type EntryRow = { userId: number; kind: EntryKind; amount: number; reference: string; note?: string | null; balanceAfter: number };
const INSERT_ENTRY = `INSERT INTO ledger_entries (user_id, kind, amount, balance_after, reference, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
const entryParams = (e: EntryRow) => [e.userId, e.kind, e.amount, e.balanceAfter, e.reference, e.note ?? null, Date.now()];

export async function insertEntry(q: Queryable, e: EntryRow): Promise<LedgerEntry> {
  return toEntry((await q.get(`${INSERT_ENTRY} RETURNING *`, entryParams(e)))!);
}

export interface PostResult {
  entry: LedgerEntry;
  /** True when an entry with this reference already existed: nothing was applied this time. */
  duplicate: boolean;
}

export interface PostOptions {
  /**
   * Runs in the entry's transaction right after it applied (not for a repeated reference): side
   * effects that must exist exactly when the entry does, e.g. the balance alert it crosses into.
   */
  afterApply?: (q: Queryable, entry: LedgerEntry) => Promise<unknown>;
}

/**
 * Applies one entry in its own transaction; a repeated reference returns the first entry untouched.
 * A guarded debit on SQLite first reserves its amount beside the in-memory request holds, so the two
 * cannot overdraw the balance together; on PostgreSQL it takes the user's hold lock first, so its check
 * counts every hold placed before it and no hold is placed until it commits (hold-sql.ts).
 */
export async function postEntry(db: Database, e: EntryInput, opts: PostOptions = {}): Promise<PostResult> {
  const guarded = (e.keepNonNegative ?? e.amount < 0) && e.amount < 0;
  const reservation = guarded && memoryHolds(db) ? `debit:${e.reference}:${randomUUID()}` : null;
  if (reservation && !(await memoryBook(db).reserve(reservation, e.userId, -e.amount))) {
    const existing = await findByReference(db, e.reference);
    if (existing) return { entry: existing, duplicate: true };
    throw new InsufficientBalanceError();
  }
  try {
    const entry = await db.tx(async (q) => {
      if (guarded && db.dialect === 'postgres') await lockHoldsOf(q, e.userId);
      const applied = await applyEntry(q, e);
      await opts.afterApply?.(q, applied);
      return applied;
    });
    // In-memory holds keep a floor of each balance; every committed debit must lower it.
    if (e.amount < 0 && memoryHolds(db)) memoryBook(db).charged(e.userId, -e.amount);
    return { entry, duplicate: false };
  } catch (err) {
    // A repeated reference is a duplicate even when repeating its debit would now overdraw (the
    // balance check runs before the unique reference is).
    if (!isUniqueViolation(err) && !(err instanceof InsufficientBalanceError)) throw err;
    const existing = await findByReference(db, e.reference);
    if (!existing) throw err;
    return { entry: existing, duplicate: true };
  } finally {
    if (reservation) memoryBook(db).drop(reservation);
  }
}

export async function findByReference(q: Queryable, reference: string): Promise<LedgerEntry | undefined> {
  const r = await q.get('SELECT * FROM ledger_entries WHERE reference = ?', [reference]);
  return r ? toEntry(r) : undefined;
}

/**
 * Verifies the ledger's invariants (see audit.ts): every balance equals its entries minus its usage-log
 * costs, used equals the usage-log costs, no hold row has a negative amount. Exact.
 */
export async function checkLedger(q: Queryable): Promise<{ accounts: number; mismatches: AuditProblem[] }> {
  const { users, problems } = await auditLedger(q);
  return { accounts: users, mismatches: problems };
}
