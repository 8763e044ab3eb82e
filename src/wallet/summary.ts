// The wallet page's figures beyond the balance: credits by origin, spend over recent UTC days, runway.
import type { Queryable } from '../db/index.ts';

const DAY_MS = 86_400_000;

export interface WalletSummary {
  trialCredit: number;
  referralRewards: number;
  totalToppedUp: number;
  spend: { today: number; last7Days: number; last30Days: number };
}

/** Midnight UTC of the day `now` falls in. */
export const startOfUtcDay = (now: number) => Math.floor(now / DAY_MS) * DAY_MS;

/**
 * Sums for GET /api/wallet at the instant `now` (injectable, for tests). Spend is the cost of the
 * usage-log rows: today = since 00:00 UTC; last7Days / last30Days = the 7 / 30 × 24 h before `now`.
 * Credits are sums of ledger entries by kind (`topup` counts only credits, so a refund does not lower
 * what was topped up).
 */
export async function walletSummary(q: Queryable, userId: number, now = Date.now()): Promise<WalletSummary> {
  const [credits, spend] = await Promise.all([
    // `kind <> 'usage'` lets both databases use the partial index ledger_credits.
    q.all<{ kind: string; total: number | string }>(
      `SELECT kind, SUM(amount) AS total FROM ledger_entries
        WHERE user_id = ? AND kind <> 'usage' AND kind IN ('trial', 'referral', 'topup') AND (kind <> 'topup' OR amount > 0)
        GROUP BY kind`,
      [userId],
    ),
    q.get<{ today: number | string | null; d7: number | string | null; d30: number | string | null }>(
      `SELECT SUM(CASE WHEN created_at >= ? THEN cost ELSE 0 END) AS today,
              SUM(CASE WHEN created_at > ? THEN cost ELSE 0 END) AS d7,
              SUM(cost) AS d30
         FROM usage_logs WHERE user_id = ? AND created_at > ? AND created_at <= ?`,
      [startOfUtcDay(now), now - 7 * DAY_MS, userId, now - 30 * DAY_MS, now],
    ),
  ]);
  const byKind = new Map(credits.map((r) => [r.kind, Number(r.total)]));
  return {
    trialCredit: byKind.get('trial') ?? 0,
    referralRewards: byKind.get('referral') ?? 0,
    totalToppedUp: byKind.get('topup') ?? 0,
    spend: { today: Number(spend?.today ?? 0), last7Days: Number(spend?.d7 ?? 0), last30Days: Number(spend?.d30 ?? 0) },
  };
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
