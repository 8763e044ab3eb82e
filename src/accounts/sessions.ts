import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/index.ts';
import { userFromRow, type User } from './users.ts';

export const SESSION_COOKIE = 'moleapi_session';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Sessions are random tokens; only their hash is stored. */
export async function createSession(db: Database, userId: number, ttlMs: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = Date.now();
  await db.run('INSERT INTO sessions (id, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)', [hash(token), userId, now + ttlMs, now]);
  return token;
}

export async function userForSession(db: Database, token: string): Promise<User | undefined> {
  const r = await db.get(
    'SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.expires_at > ? AND u.enabled = 1',
    [hash(token), Date.now()],
  );
  return r ? userFromRow(r) : undefined;
}

export async function deleteSession(db: Database, token: string): Promise<void> {
  await db.run('DELETE FROM sessions WHERE id = ?', [hash(token)]);
}

/** Ends every session of the user except the one whose token is given. */
export async function deleteOtherSessions(db: Database, userId: number, keepToken: string): Promise<void> {
  await db.run('DELETE FROM sessions WHERE user_id = ? AND id <> ?', [userId, hash(keepToken)]);
}

/** Deletes expired sessions (they already fail every check; this keeps the table small). */
export async function purgeExpiredSessions(db: Database): Promise<number> {
  return (await db.run('DELETE FROM sessions WHERE expires_at <= ?', [Date.now()])).changes;
}
