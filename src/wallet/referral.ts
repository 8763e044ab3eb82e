// Referral rewards: a fixed credit to the inviter when someone registers with their invite code, and an
// optional percentage of the invitee's paid top-ups. Both are ledger entries of kind `referral`, written
// inside the caller's transaction (the registration, or the top-up credit).
import type { Queryable } from '../db/index.ts';
import { applyEntry, type LedgerEntry } from '../ledger/entries.ts';
import type { Settings } from '../settings/store.ts';

/** True when the account exists and is enabled: a disabled account's invites earn nothing. */
async function enabledAccount(q: Queryable, userId: number): Promise<boolean> {
  const row = await q.get<{ enabled: number }>('SELECT enabled FROM users WHERE id = ?', [userId]);
  return row !== undefined && Number(row.enabled) === 1;
}

/**
 * In the registering transaction: credits the inviter `rewardQuota` points (reference
 * `referral:<inviteeId>`, so one reward per invitee). Nothing when the reward is 0 or the inviter is
 * disabled. A self-invite cannot happen: the invitee's own code does not exist before this transaction.
 */
export async function rewardInviter(q: Queryable, inviterId: number, inviteeId: number, rewardQuota: number): Promise<LedgerEntry | null> {
  if (rewardQuota <= 0 || inviterId === inviteeId || !(await enabledAccount(q, inviterId))) return null;
  return applyEntry(q, {
    userId: inviterId,
    kind: 'referral',
    amount: rewardQuota,
    reference: `referral:${inviteeId}`,
    note: `Referral reward: user #${inviteeId} registered with your invite code`,
  });
}

export interface RebateInput {
  inviteeId: number;
  orderNo: string;
  /** The points the invitee paid for (the top-up amount, without any tier bonus). */
  paidQuota: number;
  settings: Pick<Settings, 'referralRebatePercent'>;
}

/**
 * For the top-up credit transaction (call it once per paid order, in the same transaction as the order's
 * pending → paid change): credits the invitee's inviter `referralRebatePercent` % of `paidQuota`, rounded
 * down to whole points, as kind `referral` with reference `rebate:<orderNo>`. Returns null (and writes
 * nothing) when the invitee has no inviter, the inviter is disabled, or the rebate rounds to 0.
 * A second call for the same order throws a unique violation (the reference), aborting that transaction.
 */
export async function applyReferralRebate(q: Queryable, r: RebateInput): Promise<LedgerEntry | null> {
  const percent = r.settings.referralRebatePercent;
  if (!Number.isSafeInteger(r.paidQuota) || r.paidQuota <= 0 || percent <= 0) return null;
  const invitee = await q.get<{ inviter_id: number | string | null }>('SELECT inviter_id FROM users WHERE id = ?', [r.inviteeId]);
  if (!invitee || invitee.inviter_id === null) return null;
  const inviterId = Number(invitee.inviter_id);
  if (inviterId === r.inviteeId || !(await enabledAccount(q, inviterId))) return null;
  const amount = Number((BigInt(r.paidQuota) * BigInt(percent)) / 100n); // integer, rounded down
  if (amount <= 0) return null;
  return applyEntry(q, {
    userId: inviterId,
    kind: 'referral',
    amount,
    reference: `rebate:${r.orderNo}`,
    note: `Referral rebate: ${percent}% of order ${r.orderNo} by user #${r.inviteeId}`,
  });
}

export interface ReferralStats {
  invitedCount: number;
  /** Σ of the user's `referral` ledger entries (registration rewards and rebates). */
  rewards: number;
}

export async function referralStats(q: Queryable, userId: number): Promise<ReferralStats> {
  const [invited, rewards] = await Promise.all([
    q.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM users WHERE inviter_id = ?', [userId]),
    q.get<{ s: number | string | null }>(
      `SELECT SUM(amount) AS s FROM ledger_entries WHERE user_id = ? AND kind = 'referral' AND kind <> 'usage'`,
      [userId],
    ),
  ]);
  return { invitedCount: Number(invited?.n ?? 0), rewards: Number(rewards?.s ?? 0) };
}

/** The invite link: `{base}/register?invite=CODE`, base without a trailing slash. */
export function inviteLink(base: string, code: string): string {
  return `${base.replace(/\/+$/, '')}/register?invite=${encodeURIComponent(code)}`;
}
