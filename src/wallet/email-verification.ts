// Optional email verification (setting emailVerificationRequired): registration sends a signed link
// through the outbox; opening it records the address as verified (unique, lower case) and only then
// grants the trial credit and the inviter's reward, so one address earns one trial.
import { timingSafeEqual } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Database } from '../db/index.ts';
import { isUniqueViolation } from '../db/index.ts';
import { applyEntry } from '../ledger/entries.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import type { OutboxEntry, OutboxHandler } from '../outbox/index.ts';
import { rewardInviter } from './referral.ts';
import { sendWithSmtp } from './smtp-settings.ts';

export const VERIFY_EMAIL_KIND = 'email.verify';
const LINK_TTL_MS = 24 * 3600_000;
const PURPOSE = 'verify-email';

export interface VerifyEmailPayload {
  userId: number;
  /** Where the link points: {baseUrl}/api/auth/verify-email?token=… */
  baseUrl: string;
}

/** `<userId>.<expiresAt>.<mac>`: the MAC covers the address, so a changed address voids the link. */
export function verificationToken(secrets: SecretBox, userId: number, email: string, expiresAt: number): string {
  return `${userId}.${expiresAt}.${secrets.mac(PURPOSE, `${userId}:${expiresAt}:${email.toLowerCase()}`)}`;
}

/** The outbox row that sends the link (the token is made when it runs: no secret sits in the outbox). */
export function verificationEntry(userId: number, baseUrl: string): OutboxEntry {
  const payload: VerifyEmailPayload = { userId, baseUrl };
  return { kind: VERIFY_EMAIL_KIND, payload };
}

export function verifyEmailHandler(deps: { db: Database; secrets: SecretBox; emailTls?: ConnectionOptions }): OutboxHandler {
  return async (payload: VerifyEmailPayload) => {
    const user = await deps.db.get<{ email: string | null; verified_email: string | null }>('SELECT email, verified_email FROM users WHERE id = ?', [payload.userId]);
    if (!user?.email || user.verified_email) return;
    const token = verificationToken(deps.secrets, payload.userId, user.email, Date.now() + LINK_TTL_MS);
    const link = `${payload.baseUrl.replace(/\/+$/, '')}/api/auth/verify-email?token=${token}`;
    await sendWithSmtp(deps, {
      to: user.email,
      subject: 'MoleAPI: verify your email address',
      text: `Open this link within 24 hours to verify your email address and receive your trial credit:\n\n${link}\n\nIf you did not register, ignore this email.`,
    });
  };
}

export class VerificationError extends Error {
  constructor(
    readonly code: 'invalid_token' | 'expired_token' | 'email_taken',
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyResult {
  userId: number;
  /** Points of trial credit granted now (0 when already verified or the trial is 0). */
  trialCredited: number;
  alreadyVerified: boolean;
}

/** Checks the link and, in one transaction, marks the address verified and grants the trial credit. */
export async function verifyEmail(
  db: Database,
  secrets: SecretBox,
  token: string,
  settings: { trialQuota: number; referralRewardQuota: number },
  now = Date.now(),
): Promise<VerifyResult> {
  const m = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) throw new VerificationError('invalid_token', 'This verification link is not valid.');
  const userId = Number(m[1]);
  const expiresAt = Number(m[2]);
  const user = await db.get<{ email: string | null; inviter_id: number | null }>('SELECT email, inviter_id FROM users WHERE id = ?', [userId]);
  const expected = user?.email ? verificationToken(secrets, userId, user.email, expiresAt) : '';
  if (!user?.email || expected.length !== token.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(token))) {
    throw new VerificationError('invalid_token', 'This verification link is not valid.');
  }
  if (expiresAt < now) throw new VerificationError('expired_token', 'This verification link has expired; ask for a new one (POST /api/me/verify-email).');
  const email = user.email.toLowerCase();
  try {
    return await db.tx(async (q) => {
      const taken = await q.get<{ id: number }>('SELECT id FROM users WHERE verified_email = ?', [email]);
      if (taken && Number(taken.id) !== userId) throw new VerificationError('email_taken', 'This email address is already verified by another account.');
      // Conditional: a second click (or a concurrent one) finds it verified and grants nothing.
      const marked = await q.get('UPDATE users SET verified_email = ?, email_verified_at = ? WHERE id = ? AND verified_email IS NULL RETURNING id', [email, now, userId]);
      if (!marked) return { userId, trialCredited: 0, alreadyVerified: true };
      let trialCredited = 0;
      // An account given its trial before verification was required keeps it, and gets no second one.
      const hadTrial = await q.get('SELECT id FROM ledger_entries WHERE reference = ?', [`trial:${userId}`]);
      if (!hadTrial && settings.trialQuota > 0) {
        await applyEntry(q, { userId, kind: 'trial', amount: settings.trialQuota, reference: `trial:${userId}`, note: 'Trial credit (email verified)' });
        trialCredited = settings.trialQuota;
      }
      if (user.inviter_id !== null && !(await q.get('SELECT id FROM ledger_entries WHERE reference = ?', [`referral:${userId}`]))) {
        await rewardInviter(q, Number(user.inviter_id), userId, settings.referralRewardQuota);
      }
      return { userId, trialCredited, alreadyVerified: false };
    });
  } catch (err) {
    // Two accounts verifying one address at the same moment: the unique index lets one through.
    if (isUniqueViolation(err)) throw new VerificationError('email_taken', 'This email address is already verified by another account.');
    throw err;
  }
}

/** True when some account has verified this address (registration refuses it early). */
export async function emailVerifiedElsewhere(db: Database, email: string): Promise<boolean> {
  return !!(await db.get('SELECT id FROM users WHERE verified_email = ?', [email.toLowerCase()]));
}
