import ipaddr from 'ipaddr.js';
import type { Dialect, Queryable } from '../db/types.ts';

export const REGISTRATION_WINDOW_MS = 3600_000;

/** Refused: this address registered `limit` accounts within the last hour. */
export class RegistrationLimitError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many registrations from this address');
  }
}

/**
 * The address registrations are counted under. An IPv6 client usually holds a whole /64, so its
 * registrations count together; IPv4-mapped IPv6 is the IPv4 address.
 */
export function registrationBucket(ip: string): string {
  try {
    const addr = ipaddr.process(ip);
    if (addr.kind() === 'ipv4') return addr.toString();
    const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
    return `${parts.join(':')}::/64`;
  } catch {
    return ip; // not an address (no socket, e.g. app.fetch in a script): one shared bucket
  }
}

/**
 * Inside the registering transaction: refuses when `limit` registrations from this bucket fall in the
 * last hour. On PostgreSQL a per-bucket advisory lock makes concurrent registrations from one address
 * count one after another (SQLite transactions already run one at a time).
 */
export async function checkRegistrationLimit(q: Queryable, dialect: Dialect, bucket: string, limit: number, now: number): Promise<void> {
  if (limit <= 0) return;
  if (dialect === 'postgres') await q.get(`SELECT pg_advisory_xact_lock(1836016741, hashtext(?))`, [bucket]);
  const nth = await q.get<{ created_at: number | string }>(
    'SELECT created_at FROM users WHERE registration_ip = ? AND created_at > ? ORDER BY created_at DESC LIMIT 1 OFFSET ?',
    [bucket, now - REGISTRATION_WINDOW_MS, limit - 1],
  );
  if (nth) throw new RegistrationLimitError(Math.max(1, Math.ceil((Number(nth.created_at) + REGISTRATION_WINDOW_MS - now) / 1000)));
}
