import { randomBytes } from 'node:crypto';
import { isUniqueViolation, type Database, type Queryable } from '../db/index.ts';
import { applyEntry } from '../ledger/entries.ts';
import { heldByUserSql } from '../ledger/hold-sql.ts';
import { rewardInviter } from '../wallet/referral.ts';
import { hashPassword } from './passwords.ts';
import { checkRegistrationLimit } from './registration-limit.ts';

export type Role = 'user' | 'admin' | 'root';

export interface User {
  id: number;
  username: string;
  email: string | null;
  role: Role;
  group: string;
  enabled: boolean;
  affCode: string;
  inviterId: number | null;
  createdAt: number;
}

export function userFromRow(r: Record<string, any>): User {
  return {
    id: Number(r.id),
    username: r.username,
    email: r.email ?? null,
    role: r.role,
    group: r.group_name,
    enabled: Number(r.enabled) === 1,
    affCode: r.aff_code,
    inviterId: r.inviter_id === null || r.inviter_id === undefined ? null : Number(r.inviter_id),
    createdAt: Number(r.created_at),
  };
}

/** The public shape of a user in API answers. */
export function publicUser(u: User) {
  return { id: u.id, username: u.username, email: u.email, role: u.role, group: u.group };
}

export class UsernameTakenError extends Error {}

export interface NewUser {
  username: string;
  password: string;
  email?: string | null;
  role?: Role;
  group: string;
  inviterId?: number | null;
  trialQuota: number;
  /** Points credited to the inviter (when inviterId is set and the inviter is enabled); default 0. */
  referralRewardQuota?: number;
  /** A self-registration: its address bucket and the hourly limit per bucket (0 = none). */
  registration?: { bucket: string; perHour: number };
}

/**
 * Creates the user and, in the same transaction, the trial-credit ledger entry and the inviter's
 * referral reward. A self-registration is
 * counted against its address's hourly limit in that transaction too. Usernames are unique without
 * regard to case (a unique index on LOWER(username)).
 */
export async function createUser(db: Database, n: NewUser): Promise<User> {
  const passwordHash = await hashPassword(n.password);
  try {
    return await db.tx(async (q) => {
      const now = Date.now();
      if (n.registration) await checkRegistrationLimit(q, db.dialect, n.registration.bucket, n.registration.perHour, now);
      const row = await q.get(
        `INSERT INTO users (username, password_hash, email, role, group_name, aff_code, inviter_id, registration_ip, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [n.username, passwordHash, n.email ?? null, n.role ?? 'user', n.group, randomBytes(6).toString('base64url'), n.inviterId ?? null, n.registration?.bucket ?? null, now],
      );
      const user = userFromRow(row!);
      if (n.trialQuota > 0) {
        await applyEntry(q, { userId: user.id, kind: 'trial', amount: n.trialQuota, reference: `trial:${user.id}`, note: 'Trial credit' });
      }
      if (n.inviterId) await rewardInviter(q, n.inviterId, user.id, n.referralRewardQuota ?? 0);
      return user;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new UsernameTakenError(`username ${n.username} is taken`);
    throw err;
  }
}

/** Case-insensitive, like the unique index: `Admin` finds `admin`. */
export async function findUserByName(q: Queryable, username: string) {
  return q.get('SELECT * FROM users WHERE LOWER(username) = LOWER(?)', [username]);
}

export async function findUserById(q: Queryable, id: number): Promise<User | undefined> {
  const r = await q.get('SELECT * FROM users WHERE id = ?', [id]);
  return r ? userFromRow(r) : undefined;
}

export async function findUserByAffCode(q: Queryable, code: string): Promise<User | undefined> {
  const r = await q.get('SELECT * FROM users WHERE aff_code = ?', [code]);
  return r ? userFromRow(r) : undefined;
}

export async function walletOf(q: Queryable, userId: number) {
  return q.get<{ balance: number; held: number; used: number; request_count: number }>(
    `SELECT balance, ${heldByUserSql('users.id')} AS held, used, request_count FROM users WHERE id = ?`,
    [userId],
  );
}
