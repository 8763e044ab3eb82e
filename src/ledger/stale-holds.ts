import type { Database } from '../db/index.ts';

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

/**
 * Releases holds left by dead processes. With `everyoneElse` (single-process SQLite mode) every hold
 * not owned by this process is stale; otherwise only holds of instances silent for INSTANCE_STALE_MS.
 */
export async function releaseStaleHolds(db: Database, instanceId: string, everyoneElse: boolean): Promise<number> {
  const cutoff = Date.now() - INSTANCE_STALE_MS;
  return db.tx(async (q) => {
    const stale = await q.all<{ id: string; user_id: number; key_id: number; amount: number }>(
      everyoneElse
        ? 'SELECT id, user_id, key_id, amount FROM holds WHERE instance_id <> ?'
        : `SELECT h.id, h.user_id, h.key_id, h.amount FROM holds h LEFT JOIN instances i ON i.id = h.instance_id
           WHERE h.instance_id <> ? AND (i.id IS NULL OR i.heartbeat_at < ?)`,
      everyoneElse ? [instanceId] : [instanceId, cutoff],
    );
    for (const h of stale) {
      await q.run('DELETE FROM holds WHERE id = ?', [h.id]);
      await q.run('UPDATE users SET held = held - ? WHERE id = ?', [h.amount, h.user_id]);
      await q.run('UPDATE api_keys SET held = held - ? WHERE id = ?', [h.amount, h.key_id]);
    }
    await q.run('DELETE FROM instances WHERE heartbeat_at < ? AND id <> ?', [cutoff, instanceId]);
    return stale.length;
  });
}
