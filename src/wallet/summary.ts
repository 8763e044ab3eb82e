// The wallet page's figures beyond the balance: credits by origin, spend over recent UTC days, runway.
import type { Queryable } from '../db/index.ts';

const DAY_MS = 86_400_000;

export interface Spend {
  today: number;
  last7Days: number;
  last30Days: number;
}

export interface WalletCredits {
  trialCredit: number;
  referralRewards: number;
  totalToppedUp: number;
}

export interface WalletSummary extends WalletCredits {
  spend: Spend;
}

/** Midnight UTC of the day `now` falls in. */
export const startOfUtcDay = (now: number) => Math.floor(now / DAY_MS) * DAY_MS;

/**
 * Credits by origin: sums of ledger entries by kind (`topup` counts only credits, so a refund does not
 * lower what was topped up).
 */
export async function walletCredits(q: Queryable, userId: number): Promise<WalletCredits> {
  // `kind <> 'usage'` lets both databases use the partial index ledger_credits.
  const rows = await q.all<{ kind: string; total: number | string }>(
    `SELECT kind, SUM(amount) AS total FROM ledger_entries
      WHERE user_id = ? AND kind <> 'usage' AND kind IN ('trial', 'referral', 'topup') AND (kind <> 'topup' OR amount > 0)
      GROUP BY kind`,
    [userId],
  );
  const byKind = new Map(rows.map((r) => [r.kind, Number(r.total)]));
  return { trialCredit: byKind.get('trial') ?? 0, referralRewards: byKind.get('referral') ?? 0, totalToppedUp: byKind.get('topup') ?? 0 };
}

/**
 * Spend at the instant `now` (injectable, for tests): the cost of the usage-log rows; today = since
 * 00:00 UTC; last7Days / last30Days = the 7 / 30 × 24 h before `now`.
 */
export async function walletSpend(q: Queryable, userId: number, now = Date.now()): Promise<Spend> {
  const row = await q.get<{ today: number | string | null; d7: number | string | null; d30: number | string | null }>(
    `SELECT SUM(CASE WHEN created_at >= ? THEN cost ELSE 0 END) AS today,
            SUM(CASE WHEN created_at > ? THEN cost ELSE 0 END) AS d7,
            SUM(cost) AS d30
       FROM usage_logs WHERE user_id = ? AND created_at > ? AND created_at <= ?`,
    [startOfUtcDay(now), now - 7 * DAY_MS, userId, now - 30 * DAY_MS, now],
  );
  return { today: Number(row?.today ?? 0), last7Days: Number(row?.d7 ?? 0), last30Days: Number(row?.d30 ?? 0) };
}

export async function walletSummary(q: Queryable, userId: number, now = Date.now()): Promise<WalletSummary> {
  const [credits, spend] = await Promise.all([walletCredits(q, userId), walletSpend(q, userId, now)]);
  return { ...credits, spend };
}

/**
 * Days the available balance lasts at the average daily spend of the last 7 days, rounded down to one
 * decimal; null when nothing was spent in those 7 days; 0 when nothing is available.
 */
export function runwayDays(available: number, last7DaysSpend: number): number | null {
  if (last7DaysSpend <= 0) return null;
  if (available <= 0) return 0;
  // available / (spend / 7) days, in tenths, with integers: floor(available × 70 / spend) / 10.
  return Number((BigInt(available) * 70n) / BigInt(last7DaysSpend)) / 10;
}
