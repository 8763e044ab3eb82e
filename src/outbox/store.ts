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
  // PostgreSQL: rows another worker is claiming right now are skipped, not waited for; a row it has
  // just claimed fails the re-checked condition (its next_attempt_at moved into the future).
  const lock = db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  const rows = await db.all<ClaimedRow>(
    `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
     WHERE id IN (SELECT id FROM outbox WHERE ${due} ORDER BY next_attempt_at, id LIMIT ?${lock}) AND ${due}
     RETURNING id, kind, payload, attempts`,
    [leaseUntil, now, maxAttempts, ...kinds, limit, now, maxAttempts, ...kinds],
  );
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
