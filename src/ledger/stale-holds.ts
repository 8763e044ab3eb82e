import type { Database, Queryable } from '../db/index.ts';

// Crash recovery for holds kept in the database (PostgreSQL mode, where several instances may run).
export const INSTANCE_STALE_MS = 60_000;

/** Marks this process alive; holds of processes that stopped beating are released (crash recovery). */
export async function heartbeat(db: Database, instanceId: string): Promise<void> {
  const now = Date.now();
  await db.run(
    'INSERT INTO instances (id, heartbeat_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at',
    [instanceId, now],
  );
}

interface ReleasedHold {
  user_id: number;
  key_id: number | null;
  amount: number;
}

/** Sums released amounts per account id, in ascending id order (the lock order every writer uses). */
function totalsById(rows: ReleasedHold[], id: (r: ReleasedHold) => number | null): Array<[number, number]> {
  const totals = new Map<number, number>();
  for (const r of rows) {
    const k = id(r);
    if (k !== null) totals.set(k, (totals.get(k) ?? 0) + Number(r.amount));
  }
  return [...totals].sort((a, b) => a[0] - b[0]);
}

/**
 * Takes `held` back for hold rows this transaction itself deleted. Only rows returned by a DELETE count:
 * two instances sweeping the same dead instance's holds both see them, but each row is deleted (and
 * so released) by exactly one of them.
 */
export async function releaseDeletedHolds(q: Queryable, rows: ReleasedHold[]): Promise<void> {
  for (const [userId, amount] of totalsById(rows, (r) => Number(r.user_id))) {
    await q.run('UPDATE users SET held = held - ? WHERE id = ?', [amount, userId]);
  }
  for (const [keyId, amount] of totalsById(rows, (r) => (r.key_id === null ? null : Number(r.key_id)))) {
    await q.run('UPDATE api_keys SET held = held - ? WHERE id = ?', [amount, keyId]);
  }
}

/**
 * Releases holds left by dead processes. With `everyoneElse` (single-process SQLite mode) every hold
 * not owned by this process is stale; otherwise only holds of instances silent for INSTANCE_STALE_MS.
 */
export async function releaseStaleHolds(db: Database, instanceId: string, everyoneElse: boolean): Promise<number> {
  const cutoff = Date.now() - INSTANCE_STALE_MS;
  return db.tx(async (q) => {
    const deleted = await q.all<ReleasedHold>(
      everyoneElse
        ? 'DELETE FROM holds WHERE instance_id <> ? RETURNING user_id, key_id, amount'
        : `DELETE FROM holds WHERE instance_id <> ? AND instance_id NOT IN (SELECT id FROM instances WHERE heartbeat_at >= ?)
           RETURNING user_id, key_id, amount`,
      everyoneElse ? [instanceId] : [instanceId, cutoff],
    );
    await releaseDeletedHolds(q, deleted);
    await q.run('DELETE FROM instances WHERE heartbeat_at < ? AND id <> ?', [cutoff, instanceId]);
    return deleted.length;
  });
}
