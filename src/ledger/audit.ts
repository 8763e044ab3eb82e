import type { Queryable } from '../db/index.ts';

// The ledger's invariants, checked in SQL. The ledger is two tables: ledger_entries (credits, admin
// adjustments, ...) and usage_logs, each row of which records one request's charge (cost). Sums and comparisons happen in the database and every
// amount comes back as text (read as BigInt), so nothing is rounded through a JS number above 2^53.

export type AuditCheck =
  | 'balance = ledger entries - usage-log costs'
  | 'hold amount >= 0'
  | 'used = usage-log costs';

export interface AuditProblem {
  check: AuditCheck;
  /** `user 12 (alice)` or `key 7 (user 12)`. */
  account: string;
  /** The two sides that differ, exactly. */
  found: bigint;
  expected: bigint;
}

export interface AuditResult {
  users: number;
  keys: number;
  problems: AuditProblem[];
}

type Pair = { id: unknown; name?: string | null; found: string; expected: string };

async function pairs(q: Queryable, check: AuditCheck, sql: string, account: (r: Pair) => string): Promise<AuditProblem[]> {
  const rows = await q.all<Pair>(sql);
  return rows.map((r) => ({ check, account: account(r), found: BigInt(r.found), expected: BigInt(r.expected) }));
}

const userName = (r: Pair) => `user ${r.id} (${r.name})`;
const keyName = (r: Pair) => `key ${r.id} (user ${r.name})`;

/** Runs every check; call it inside one read-only transaction so all of them see one snapshot. */
export async function auditLedger(q: Queryable): Promise<AuditResult> {
  const counts = await q.get<{ users: string; keys: string }>(
    'SELECT CAST((SELECT COUNT(*) FROM users) AS TEXT) AS users, CAST((SELECT COUNT(*) FROM api_keys) AS TEXT) AS keys',
  );
  const problems = [
    ...(await pairs(
      q,
      'balance = ledger entries - usage-log costs',
      `SELECT u.id, u.username AS name, CAST(u.balance AS TEXT) AS found, CAST(COALESCE(s.total, 0) AS TEXT) AS expected
       FROM users u LEFT JOIN (
         SELECT user_id, SUM(amount) AS total FROM (
           SELECT user_id, amount FROM ledger_entries UNION ALL SELECT user_id, -cost AS amount FROM usage_logs
         ) t GROUP BY user_id
       ) s ON s.user_id = u.id
       WHERE u.balance <> COALESCE(s.total, 0) ORDER BY u.id`,
      userName,
    )),
    // What is held is the sum of the live hold rows (no held column), so `held >= 0` is every hold
    // row's amount >= 0 (a CHECK, or triggers on SQLite); checked anyway on a live database.
    ...(await pairs(
      q,
      'hold amount >= 0',
      `SELECT h.user_id AS id, u.username AS name, CAST(h.amount AS TEXT) AS found, '0' AS expected
       FROM holds h LEFT JOIN users u ON u.id = h.user_id WHERE h.amount < 0 ORDER BY h.user_id, h.id`,
      userName,
    )),
    // `used` moves only with charges, in the same statement-set as the usage-log row is written.
    ...(await pairs(
      q,
      'used = usage-log costs',
      `SELECT u.id, u.username AS name, CAST(u.used AS TEXT) AS found, CAST(COALESCE(l.total, 0) AS TEXT) AS expected
       FROM users u LEFT JOIN (SELECT user_id, SUM(cost) AS total FROM usage_logs GROUP BY user_id) l ON l.user_id = u.id
       WHERE u.used <> COALESCE(l.total, 0) ORDER BY u.id`,
      userName,
    )),
    ...(await pairs(
      q,
      'used = usage-log costs',
      `SELECT k.id, CAST(k.user_id AS TEXT) AS name, CAST(k.used AS TEXT) AS found, CAST(COALESCE(l.total, 0) AS TEXT) AS expected
       FROM api_keys k LEFT JOIN (SELECT key_id, SUM(cost) AS total FROM usage_logs GROUP BY key_id) l ON l.key_id = k.id
       WHERE k.used <> COALESCE(l.total, 0) ORDER BY k.id`,
      keyName,
    )),
  ];
  return { users: Number(counts?.users ?? 0), keys: Number(counts?.keys ?? 0), problems };
}
