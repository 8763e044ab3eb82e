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
    // What is held is the sum of the live hold rows, so deleting a row releases it: two instances
    // sweeping the same dead instance delete (and so release) each row once.
    const deleted = await q.run(
      everyoneElse
        ? 'DELETE FROM holds WHERE instance_id <> ?'
        : 'DELETE FROM holds WHERE instance_id <> ? AND instance_id NOT IN (SELECT id FROM instances WHERE heartbeat_at >= ?)',
      everyoneElse ? [instanceId] : [instanceId, cutoff],
    );
    await q.run('DELETE FROM instances WHERE heartbeat_at < ? AND id <> ?', [cutoff, instanceId]);
    return deleted.changes;
  });
}
