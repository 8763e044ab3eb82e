// Limits wrong redemption codes per user and per client address, so the code space cannot be searched.
// Attempts are rows in the database (shared by every instance). Each attempt is recorded *before* the
// code is looked up and removed again when the code turned out to exist, so attempts in flight count
// too: of a burst of N guesses only the first `limit` are looked up.
import type { Database, Queryable } from '../db/index.ts';

export const REDEEM_WINDOW_MS = 15 * 60_000;
export const WRONG_CODES_PER_USER = 10;
export const WRONG_CODES_PER_IP = 50;

export class RedeemLimitError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many wrong redemption codes');
  }
}

export interface Attempt {
  ids: number[];
}

/**
 * Records an attempt in the user's and the address's buckets; refuses (and records nothing) when
 * either bucket already holds its limit of attempts within the window.
 */
export async function beginAttempt(db: Database, userId: number, ipBucket: string, now = Date.now()): Promise<Attempt> {
  const buckets: [string, number][] = [
    [`user:${userId}`, WRONG_CODES_PER_USER],
    [`ip:${ipBucket}`, WRONG_CODES_PER_IP],
  ];
  // One transaction per attempt, serialised per bucket (PostgreSQL: advisory locks, always taken user
  // first, then address; SQLite runs one transaction at a time), so counts are exact under bursts.
  return db.tx(async (q) => {
    if (db.dialect === 'postgres') {
      for (const [bucket] of buckets) await q.get('SELECT pg_advisory_xact_lock(1919247716, hashtext(?))', [bucket]);
    }
    const ids: number[] = [];
    let wait = 0;
    for (const [bucket, limit] of buckets) {
      const n = await q.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM redeem_attempts WHERE bucket = ? AND created_at > ?', [bucket, now - REDEEM_WINDOW_MS]);
      if (Number(n!.n) >= limit) wait = Math.max(wait, await retryAfter(q, bucket, limit, now));
    }
    if (wait > 0) throw new RedeemLimitError(wait);
    for (const [bucket] of buckets) {
      const row = await q.get<{ id: number }>('INSERT INTO redeem_attempts (bucket, created_at) VALUES (?, ?) RETURNING id', [bucket, now]);
      ids.push(Number(row!.id));
    }
    return { ids };
  });
}

/** Seconds until the bucket holds fewer than `limit` attempts: when the limit-th newest leaves the window. */
async function retryAfter(q: Queryable, bucket: string, limit: number, now: number): Promise<number> {
  const nth = await q.get<{ created_at: number | string }>(
    'SELECT created_at FROM redeem_attempts WHERE bucket = ? AND created_at > ? ORDER BY created_at DESC LIMIT 1 OFFSET ?',
    [bucket, now - REDEEM_WINDOW_MS, limit - 1],
  );
  const until = nth ? Number(nth.created_at) + REDEEM_WINDOW_MS : now + 1000;
  return Math.max(1, Math.ceil((until - now) / 1000));
}

/** The code existed (whatever came of it): the attempt was not a guess and does not count. */
export async function forget(q: Queryable, attempt: Attempt): Promise<void> {
  await q.run(`DELETE FROM redeem_attempts WHERE id IN (${attempt.ids.map(() => '?').join(', ')})`, attempt.ids);
}

/** Drops attempts that left the window (called after a wrong code, so the table stays small). */
export async function pruneAttempts(q: Queryable, now = Date.now()): Promise<void> {
  await q.run('DELETE FROM redeem_attempts WHERE created_at <= ?', [now - REDEEM_WINDOW_MS]);
}
