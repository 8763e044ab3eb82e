import type { Queryable } from '../db/index.ts';
import type { Dialect } from '../db/types.ts';
import { USAGE_LOG_COLUMNS, usageLogValues, type UsageLogRow } from '../logs/usage-log.ts';
import { settlePostgres } from './settlement-pg.ts';

// The SQL of settling a batch of requests; the batching itself is in settlement-writer.ts.

export interface Settlement {
  holdId: string;
  userId: number;
  keyId: number;
  /** Real cost in points. May exceed the hold: the request was served, so it is charged in full. */
  cost: number;
  log: UsageLogRow;
}

/**
 * What a committed batch left on the accounts it charged, as its own UPDATEs returned it (no extra
 * query): each user's balance and each key's usage and limit right after the batch. Side effects
 * (alerts) are judged from these in memory.
 */
export interface SettledAccounts {
  balances: Map<number, number>;
  keys: Map<number, { used: number; limit: number | null }>;
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

/**
 * Settles a batch inside the caller's transaction. PostgreSQL: one statement (settlement-pg.ts).
 * SQLite (holds in memory, one process, statements in process): the users' balances, then the keys',
 * each in ascending id order (sums per account), then one multi-row insert of the usage-log rows,
 * which are the ledger's record of each charge (cost and balance after it; request id unique).
 */
export async function applySettlements(q: Queryable, items: Settlement[], dialect: Dialect): Promise<SettledAccounts> {
  if (dialect === 'postgres') return settlePostgres(q, items);
  const now = Date.now();
  const byUser = groupById(items, (s) => s.userId);
  const rows: unknown[][] = [];
  const settled: SettledAccounts = { balances: new Map(), keys: new Map() };
  for (const [userId, mine] of byUser) {
    const cost = sum(mine, (s) => s.cost);
    const user = await q.get<{ balance: number }>(
      'UPDATE users SET balance = balance - ?, used = used + ?, request_count = request_count + ? WHERE id = ? RETURNING balance',
      [cost, cost, sum(mine, counted), userId],
    );
    if (!user) throw new Error(`settle: user ${userId} vanished`);
    settled.balances.set(userId, Number(user.balance));
    // Each row's balance after its charge, in the order the requests finished.
    let running = Number(user.balance) + cost;
    for (const s of mine) {
      running -= s.cost;
      rows.push(usageLogValues(s.log, running));
    }
  }
  for (const [keyId, mine] of groupById(items, (s) => s.keyId)) {
    const key = await q.get<{ used: number; quota_limit: number | null }>(
      'UPDATE api_keys SET used = used + ?, request_count = request_count + ?, last_used_at = ? WHERE id = ? RETURNING used, quota_limit',
      [sum(mine, (s) => s.cost), sum(mine, counted), now, keyId],
    );
    // A deleted key's requests are still charged to its user (the key row is only its tally).
    if (key) settled.keys.set(keyId, { used: Number(key.used), limit: key.quota_limit === null ? null : Number(key.quota_limit) });
  }
  await insertRows(q, 'usage_logs', USAGE_LOG_COLUMNS, rows);
  return settled;
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

/** Drops a settled request's hold row, if it is still there (what is held is the sum of the rows). */
export async function dropHold(q: Queryable, s: Settlement): Promise<void> {
  await q.run('DELETE FROM holds WHERE id = ?', [s.holdId]);
}

/** The settlements among `items` already committed (as alreadySettled tells), found a few hundred per query. */
export async function settledAmong(q: Queryable, items: Settlement[]): Promise<Set<Settlement>> {
  const logged = new Set<string>();
  const referenced = new Set<string>();
  for (let i = 0; i < items.length; i += 500) {
    const chunk = items.slice(i, i + 500);
    const marks = chunk.map(() => '?').join(', ');
    const rows = await q.all<{ log: number; id: string }>(
      `SELECT 1 AS log, request_id AS id FROM usage_logs WHERE request_id IN (${marks})
       UNION ALL SELECT 0 AS log, reference AS id FROM ledger_entries WHERE reference IN (${marks})`,
      [...chunk.map((s) => s.log.requestId), ...chunk.map(chargeReference)],
    );
    for (const r of rows) (Number(r.log) ? logged : referenced).add(r.id);
  }
  return new Set(items.filter((s) => logged.has(s.log.requestId) || referenced.has(chargeReference(s))));
}
