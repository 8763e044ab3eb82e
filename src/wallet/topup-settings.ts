// Operator settings for top-ups, merged into the settings schema (src/settings/store.ts). Amounts are
// decimal strings (USD with ≤ 2 decimals, the CNY rate with ≤ 6), never floats.
import { z } from 'zod';
import { compareDecimal } from './payments/money.ts';

const USD = /^\d{1,9}(?:\.\d{1,2})?$/;
export const usdString = z.string().regex(USD, 'a USD amount as a decimal string with at most 2 decimals, e.g. "10" or "10.50"');

const positiveUsd = usdString.refine((v) => compareDecimal(v, '0') === 1, 'must be more than 0');

export const topupTier = z.object({
  usd: positiveUsd,
  bonusQuota: z.number().int().min(0).max(1e13),
});
export type TopupTier = z.infer<typeof topupTier>;

export const topupSettingsShape = {
  /** Where providers reach the gateway: notify URL = {publicBaseUrl}/api/payment/notify/{provider}. '' = the request's own origin. */
  publicBaseUrl: z.union([z.literal(''), z.url({ protocol: /^https?$/ }).max(512).regex(/^[^?#]*[^/?#]$/, 'no trailing slash, query or fragment')]),
  topupTiers: z
    .array(topupTier)
    .max(20)
    .refine((tiers) => new Set(tiers.map((t) => compareKey(t.usd))).size === tiers.length, 'each tier amount once'),
  minTopupUsd: positiveUsd,
  maxTopupUsd: positiveUsd,
  cnyPerUsd: z
    .string()
    .regex(/^\d{1,6}(?:\.\d{1,6})?$/, 'CNY per USD as a decimal string with at most 6 decimals, e.g. "7.2"')
    .refine((v) => compareDecimal(v, '0') === 1, 'must be more than 0'),
  orderExpiryMinutes: z.number().int().min(1).max(7 * 24 * 60),
  // A paid top-up may be invoiced this many days after it was paid (the value when the invoice is requested).
  invoiceDelayDays: z.number().int().min(0).max(366),
};

/** "10", "10.0" and "10.00" are the same tier. */
function compareKey(usd: string): string {
  const [w, f = ''] = usd.split('.');
  return `${BigInt(w!)}.${f.padEnd(2, '0')}`;
}

// 500,000 points = $1: +5 % from $100 up.
export const DEFAULT_TOPUP_SETTINGS = {
  publicBaseUrl: '' as string,
  topupTiers: [
    { usd: '10', bonusQuota: 0 },
    { usd: '20', bonusQuota: 0 },
    { usd: '50', bonusQuota: 0 },
    { usd: '100', bonusQuota: 2_500_000 },
    { usd: '200', bonusQuota: 5_000_000 },
    { usd: '500', bonusQuota: 12_500_000 },
  ] as TopupTier[],
  minTopupUsd: '1',
  maxTopupUsd: '10000',
  cnyPerUsd: '7.2',
  orderExpiryMinutes: 30,
  invoiceDelayDays: 7,
};

/**
 * The bonus for an amount: the bonus of the largest tier at or below it (a $150 custom amount gets the
 * $100 tier's bonus), 0 below the smallest tier.
 */
export function bonusFor(tiers: readonly TopupTier[], usd: string): number {
  let best: TopupTier | undefined;
  for (const t of tiers) {
    if (compareDecimal(t.usd, usd) !== 1 && (!best || compareDecimal(t.usd, best.usd) === 1)) best = t;
  }
  return best?.bonusQuota ?? 0;
}

/** A problem between top-up settings (each valid alone), or null. */
export function topupSettingsProblem(s: { minTopupUsd: string; maxTopupUsd: string }): { field: string; message: string } | null {
  if (compareDecimal(s.minTopupUsd, s.maxTopupUsd) === 1) return { field: 'minTopupUsd', message: `minTopupUsd (${s.minTopupUsd}) is above maxTopupUsd (${s.maxTopupUsd})` };
  return null;
}
