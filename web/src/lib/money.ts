import type { Money } from '../api/client.ts';

export const POINTS_PER_USD = 500_000;

/** "$0.50", "$0.000123": at least cents, never more digits than the 6 the API sends. */
export function formatUsd(usd: string): string {
  const negative = usd.startsWith('-');
  const [whole = '0', frac = ''] = usd.replace(/^-/, '').split('.');
  let f = frac.replace(/0+$/, '');
  if (f.length < 2) f = f.padEnd(2, '0');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}$${grouped}.${f}`;
}

export function formatPoints(quota: number, locale: string): string {
  return quota.toLocaleString(locale);
}

/**
 * A USD amount typed by a person ("5", "0.25", "-1.5") as integer points, exactly (string arithmetic,
 * no float): null when it is not a decimal with at most 6 places.
 */
export function usdToPoints(input: string): number | null {
  const m = /^\s*(-)?(\d+)(?:\.(\d{1,6}))?\s*$/.exec(input);
  if (!m) return null;
  const micros = BigInt(m[2]!) * 1_000_000n + BigInt((m[3] ?? '').padEnd(6, '0') || '0');
  const points = (micros * BigInt(POINTS_PER_USD)) / 1_000_000n;
  if ((micros * BigInt(POINTS_PER_USD)) % 1_000_000n !== 0n) return null; // finer than one point
  const n = Number(points);
  if (!Number.isSafeInteger(n)) return null;
  return m[1] ? -n : n;
}

export function isMoney(v: unknown): v is Money {
  return typeof v === 'object' && v !== null && 'quota' in v && 'usd' in v;
}
