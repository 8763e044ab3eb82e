// The outbox table's SQL, for both dialects. A claim bumps attempts and pushes next_attempt_at to the
// end of a lease; every later update names the attempts value it claimed, so the result of a run
// whose lease expired (and that another worker has since claimed) changes nothing.
import type { Database } from '../db/index.ts';

export interface ClaimedRow {
  id: number;
  kind: string;
  payload: string;
  attempts: number;
}

export async function claimDue(db: Database, kinds: string[], limit: number, now: number, leaseUntil: number, maxAttempts: number): Promise<ClaimedRow[]> {
  if (kinds.length === 0 || limit <= 0) return [];
  const marks = kinds.map(() => '?').join(', ');
  const due = `status = 'pending' AND next_attempt_at <= ? AND attempts < ? AND kind IN (${marks})`;
  const params = [now, maxAttempts, ...kinds, limit, leaseUntil];
  // PostgreSQL: the candidates are picked once (a MATERIALIZED CTE; as an IN (…) subquery the planner
  // may rescan it and claim far more than the limit), rows another worker is claiming are skipped
  // rather than waited for, and a row it has just claimed is no longer due.
  // SQLite: one connection per process, and the statement is atomic.
  const sql =
    db.dialect === 'postgres'
      ? `WITH picked AS MATERIALIZED (SELECT id FROM outbox WHERE ${due} ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
         UPDATE outbox SET attempts = outbox.attempts + 1, next_attempt_at = ? FROM picked WHERE outbox.id = picked.id
         RETURNING outbox.id, outbox.kind, outbox.payload, outbox.attempts`
      : `WITH picked AS (SELECT id FROM outbox WHERE ${due} ORDER BY next_attempt_at, id LIMIT ?)
         UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN (SELECT id FROM picked)
         RETURNING id, kind, payload, attempts`;
  const rows = await db.all<ClaimedRow>(sql, params);
  return rows.map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) }));
}

/** Marks a claimed row done; false when the claim was lost (lease expired and re-claimed). */
export async function markDone(db: Database, row: ClaimedRow, now: number): Promise<boolean> {
  const r = await db.run(`UPDATE outbox SET status = 'done', done_at = ?, last_error = NULL WHERE id = ? AND attempts = ? AND status = 'pending'`, [
    now,
    row.id,
    row.attempts,
  ]);
  return r.changes === 1;
}

/** Records a failed attempt: pending again at retryAt, or dead when retryAt is null. */
export async function markFailed(db: Database, row: ClaimedRow, error: string, retryAt: number | null, now: number): Promise<boolean> {
  const r =
    retryAt === null
      ? await db.run(`UPDATE outbox SET status = 'dead', done_at = ?, last_error = ? WHERE id = ? AND attempts = ? AND status = 'pending'`, [
          now,
          error,
          row.id,
          row.attempts,
        ])
      : await db.run(`UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND attempts = ? AND status = 'pending'`, [
          retryAt,
          error,
          row.id,
          row.attempts,
        ]);
  return r.changes === 1;
}

/**
 * Rows whose last allowed attempt was claimed but never reported (the process died mid-run) are
 * dead once that lease has expired. Returns how many.
 */
export async function buryAbandoned(db: Database, maxAttempts: number, now: number): Promise<number> {
  const r = await db.run(
    `UPDATE outbox SET status = 'dead', done_at = ?, last_error = COALESCE(last_error || ' | ', '') || 'abandoned: no result from the last attempt before its lease expired'
     WHERE status = 'pending' AND attempts >= ? AND next_attempt_at <= ?`,
    [now, maxAttempts, now],
  );
  return r.changes;
}

/** Deletes done rows finished before `before` (dead rows are kept for inspection). */
export async function purgeDone(db: Database, before: number): Promise<number> {
  return (await db.run(`DELETE FROM outbox WHERE status = 'done' AND done_at < ?`, [before])).changes;
}
