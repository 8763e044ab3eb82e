import type { Queryable } from '../db/index.ts';
import type { Dialect } from '../db/types.ts';
import { USAGE_LOG_COLUMNS, usageLogValues, type UsageLogRow } from '../logs/usage-log.ts';
import { releaseDeletedHolds } from './stale-holds.ts';

// The SQL of settling a batch of requests; the batching itself is in settlement-writer.ts.

export interface Settlement {
  holdId: string;
  userId: number;
  keyId: number;
  /** Real cost in points. May exceed the hold: the request was served, so it is charged in full. */
  cost: number;
  log: UsageLogRow;
}

const sum = (xs: Settlement[], f: (s: Settlement) => number) => xs.reduce((a, s) => a + f(s), 0);
// A request counts once it succeeded or was billed (a stream cut after delivering tokens).
const counted = (s: Settlement) => (s.log.status < 400 || s.cost > 0 ? 1 : 0);

/**
 * Groups by account id, in ascending id order: every writer locks account rows in that order (users,
 * then keys), so two instances settling for the same accounts wait for each other but never deadlock.
 */
function groupById(items: Settlement[], key: (s: Settlement) => number): Array<[number, Settlement[]]> {
  const out = new Map<number, Settlement[]>();
  for (const s of items) {
    const k = key(s);
    const list = out.get(k);
    if (list) list.push(s);
    else out.set(k, [s]);
  }
  return [...out].sort((a, b) => a[0] - b[0]);
}

// Multi-row inserts use only these row counts, so a busy gateway prepares 6 statements per table
// instead of one per batch size (each prepared statement holds memory for its parameters).
const CHUNKS = [32, 16, 8, 4, 2, 1];
const insertSql = new Map<string, string>();

/** Inserts rows (each an array of values in `columns` order) with as few statements as the chunk sizes allow. */
async function insertRows(q: Queryable, table: string, columns: readonly string[], rows: unknown[][]): Promise<void> {
  let i = 0;
  for (const size of CHUNKS) {
    for (; rows.length - i >= size; i += size) {
      const cacheKey = `${table}:${size}`;
      let sql = insertSql.get(cacheKey);
      if (!sql) {
        const row = `(${columns.map(() => '?').join(', ')})`;
        sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array(size).fill(row).join(', ')}`;
        insertSql.set(cacheKey, sql);
      }
      await q.run(sql, rows.slice(i, i + size).flat());
    }
  }
}

interface AccountDelta {
  id: number;
  cost: number;
  held: number;
  count: number;
}

const deltas = (groups: Array<[number, Settlement[]]>, heldOf: (s: Settlement) => number): AccountDelta[] =>
  groups.map(([id, mine]) => ({ id, cost: sum(mine, (s) => s.cost), held: sum(mine, heldOf), count: sum(mine, counted) }));

/** Locks the rows in ascending id order first, so the set-based update cannot lock them in another. */
async function lockInIdOrder(q: Queryable, table: 'users' | 'api_keys', ids: number[]): Promise<void> {
  if (ids.length > 1) await q.all(`SELECT id FROM ${table} WHERE id = ANY(?::bigint[]) ORDER BY id FOR UPDATE`, [ids]);
}

/** The users' new balances. PostgreSQL: one statement for the whole batch; SQLite: one per user (in process, cheap). */
async function chargeUsers(q: Queryable, rows: AccountDelta[], dialect: Dialect): Promise<Map<number, number>> {
  const balances = new Map<number, number>();
  if (dialect === 'postgres') {
    await lockInIdOrder(q, 'users', rows.map((r) => r.id));
    const updated = await q.all<{ id: number; balance: number }>(
      `UPDATE users u SET balance = u.balance - v.cost, held = u.held - v.held, used = u.used + v.cost, request_count = u.request_count + v.n
       FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) AS v(id, cost, held, n)
       WHERE u.id = v.id RETURNING u.id, u.balance`,
      [rows.map((r) => r.id), rows.map((r) => r.cost), rows.map((r) => r.held), rows.map((r) => r.count)],
    );
    for (const r of updated) balances.set(Number(r.id), Number(r.balance));
  } else {
    for (const r of rows) {
      const user = await q.get<{ balance: number }>(
        `UPDATE users SET balance = balance - ?, held = held - ?, used = used + ?, request_count = request_count + ?
         WHERE id = ? RETURNING balance`,
        [r.cost, r.held, r.cost, r.count, r.id],
      );
      if (user) balances.set(r.id, Number(user.balance));
    }
  }
  for (const r of rows) if (!balances.has(r.id)) throw new Error(`settle: user ${r.id} vanished`);
  return balances;
}

async function chargeKeys(q: Queryable, rows: AccountDelta[], dialect: Dialect, now: number): Promise<void> {
  if (dialect === 'postgres') {
    await lockInIdOrder(q, 'api_keys', rows.map((r) => r.id));
    await q.run(
      `UPDATE api_keys k SET used = k.used + v.cost, held = k.held - v.held, request_count = k.request_count + v.n, last_used_at = ?
       FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) AS v(id, cost, held, n) WHERE k.id = v.id`,
      [now, rows.map((r) => r.id), rows.map((r) => r.cost), rows.map((r) => r.held), rows.map((r) => r.count)],
    );
    return;
  }
  for (const r of rows) {
    await q.run('UPDATE api_keys SET used = used + ?, held = held - ?, request_count = request_count + ?, last_used_at = ? WHERE id = ?', [
      r.cost,
      r.held,
      r.count,
      now,
      r.id,
    ]);
  }
}

/**
 * Settles a batch inside the caller's transaction: balances of users, then keys, each in ascending id
 * order (sums per account), then one multi-row insert of the usage-log rows, which are the ledger's
 * record of each charge (cost and balance after it; request id unique). On PostgreSQL holds are rows,
 * which are deleted and their amounts taken off the held columns.
 */
export async function applySettlements(q: Queryable, items: Settlement[], dialect: Dialect): Promise<void> {
  const now = Date.now();
  const held = dialect === 'postgres' ? await takeHolds(q, items) : new Map<string, number>();
  const heldOf = (s: Settlement) => held.get(s.holdId) ?? 0;
  const byUser = groupById(items, (s) => s.userId);
  const balances = await chargeUsers(q, deltas(byUser, heldOf), dialect);
  await chargeKeys(q, deltas(groupById(items, (s) => s.keyId), heldOf), dialect, now);
  const rows: unknown[][] = [];
  for (const [userId, mine] of byUser) {
    // Each row's balance after its charge, in the order the requests finished.
    let running = balances.get(userId)! + sum(mine, (s) => s.cost);
    for (const s of mine) {
      running -= s.cost;
      rows.push(usageLogValues(s.log, running));
    }
  }
  await insertRows(q, 'usage_logs', USAGE_LOG_COLUMNS, rows);
}

/** Removes the batch's hold rows; returns what each still reserved (absent if a sweeper released it). */
async function takeHolds(q: Queryable, items: Settlement[]): Promise<Map<string, number>> {
  const rows = await q.all<{ id: string; amount: number }>(
    `DELETE FROM holds WHERE id IN (${items.map(() => '?').join(', ')}) RETURNING id, amount`,
    items.map((s) => s.holdId),
  );
  return new Map(rows.map((r) => [r.id, Number(r.amount)]));
}


/** The ledger reference a request's charge had before usage-log rows became its record. */
export const chargeReference = (s: Settlement) => `req:${s.holdId}`;

/**
 * True when this settlement was already committed: its usage-log row (request id unique) exists, or,
 * from a version before that, its charge's ledger entry. Both are written only by the settlement's own
 * transaction, so either one means it landed (e.g. a COMMIT that succeeded while the driver reported
 * an error).
 */
export async function alreadySettled(q: Queryable, s: Settlement): Promise<boolean> {
  const found = await q.get(
    `SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM usage_logs WHERE request_id = ?)
       OR EXISTS (SELECT 1 FROM ledger_entries WHERE reference = ?)`,
    [s.log.requestId, chargeReference(s)],
  );
  return found !== undefined;
}

/** Drops a settled request's hold row, if it is still there, and its share of the held columns. */
export async function dropHold(q: Queryable, s: Settlement): Promise<void> {
  const rows = await q.all<{ user_id: number; key_id: number | null; amount: number }>(
    'DELETE FROM holds WHERE id = ? RETURNING user_id, key_id, amount',
    [s.holdId],
  );
  await releaseDeletedHolds(q, rows);
}
