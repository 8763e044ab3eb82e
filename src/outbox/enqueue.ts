import type { Queryable } from '../db/index.ts';

export interface OutboxEntry {
  /** Which handler runs it (a worker only claims kinds it has a handler for). */
  kind: string;
  /** Anything JSON can carry; the handler receives it parsed. Keep secrets out: store ids, look them up. */
  payload: unknown;
  /** At most one row ever exists per key: a second enqueue with the same key is a no-op. */
  dedupeKey?: string;
  /** Epoch ms before which the row is not run (default: now). */
  runAt?: number;
}

/**
 * Records a side effect to run later. Call it with the transaction handle of the state change it
 * belongs to, so both commit or neither does. Returns the row id, or null when dedupeKey already
 * existed. Call the worker's kick() after the commit to run it without waiting for the next poll.
 */
export async function enqueue(q: Queryable, entry: OutboxEntry): Promise<number | null> {
  if (!entry.kind) throw new Error('outbox entry needs a kind');
  const payload = JSON.stringify(entry.payload ?? null);
  const now = Date.now();
  // ON CONFLICT DO NOTHING (not a caught unique violation): on PostgreSQL a failed statement would
  // abort the caller's whole transaction.
  const row = await q.get<{ id: number }>(
    `INSERT INTO outbox (kind, payload, dedupe_key, status, attempts, next_attempt_at, created_at)
     VALUES (?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [entry.kind, payload, entry.dedupeKey ?? null, entry.runAt ?? now, now],
  );
  return row ? Number(row.id) : null;
}
