// Exact decimal helpers for payment amounts. Amounts travel as decimal strings ("73.00") or integer
// minor units; they are parsed into bigints and never touch a float.
import { POINTS_PER_USD } from '../../lib/money.ts';

/** A parsed non-negative decimal: value = units / 10^scale. */
export interface Decimal {
  units: bigint;
  scale: number;
}

const DECIMAL = /^(\d{1,18})(?:\.(\d{1,12}))?$/;

/** Parses a plain non-negative decimal string ("73", "73.0", "0.01"). No signs, exponents or spaces. */
export function parseDecimal(text: unknown): Decimal | null {
  if (typeof text !== 'string') return null;
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  return { units: BigInt(m[1]! + frac), scale: frac.length };
}

function rescale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** Compares two decimal strings exactly: -1, 0 or 1; null when either is not a decimal. "73" equals "73.00". */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 | null {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return null;
  const scale = Math.max(x.scale, y.scale);
  const l = rescale(x, scale);
  const r = rescale(y, scale);
  return l < r ? -1 : l > r ? 1 : 0;
}

/**
 * A decimal string with at most `digits` significant decimals → integer minor units ("73.00" → 7300).
 * Trailing zeros beyond `digits` are fine ("73.000"); anything finer ("73.001") is null, so it can never
 * be rounded into a match.
 */
export function decimalToMinor(text: unknown, digits = 2): bigint | null {
  const d = parseDecimal(text);
  if (!d) return null;
  if (d.scale <= digits) return rescale(d, digits);
  const unit = 10n ** BigInt(d.scale - digits);
  return d.units % unit === 0n ? d.units / unit : null;
}

/** Integer minor units → a decimal string with exactly `digits` decimals (7300 → "73.00"). */
export function minorToDecimal(minor: bigint | number, digits = 2): string {
  const v = BigInt(minor);
  if (v < 0n) throw new RangeError('negative amount');
  const unit = 10n ** BigInt(digits);
  if (digits === 0) return v.toString();
  return `${v / unit}.${(v % unit).toString().padStart(digits, '0')}`;
}

/** 1 cent = 5,000 points. */
const POINTS_PER_CENT = POINTS_PER_USD / 100n;

/** A USD decimal string with at most 2 decimals ("10", "10.5", "10.50") → points; null if malformed. */
export function usdToPoints(usd: unknown): bigint | null {
  if (typeof usd !== 'string' || !/^\d{1,9}(?:\.\d{1,2})?$/.test(usd)) return null;
  return decimalToMinor(usd, 2)! * POINTS_PER_CENT;
}

/** USD cents → points. */
export function centsToPoints(cents: bigint | number): bigint {
  return BigInt(cents) * POINTS_PER_CENT;
}

/** Points → exact USD string with at least 2 decimals (5000000 → "10.00", 1 → "0.000002"). */
export function pointsToUsd(points: bigint | number): string {
  const p = BigInt(points);
  const neg = p < 0n;
  const micro = (neg ? -p : p) * 2n; // points / 500,000 = points × 2 / 10^6, exact at 6 decimals
  let frac = (micro % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${micro / 1_000_000n}.${frac}`;
}

/**
 * A USD amount (≤ 2 decimals) times a CNY-per-USD rate (decimal string, ≤ 6 decimals) → CNY fen,
 * rounded half up to the fen. Null when either input is malformed or the rate is zero.
 */
export function usdToCnyMinor(usd: string, cnyPerUsd: string): bigint | null {
  const cents = decimalToMinor(usd, 2);
  const rate = decimalToMinor(cnyPerUsd, 6);
  if (cents === null || rate === null || rate === 0n) return null;
  if (!/^\d{1,9}(?:\.\d{1,2})?$/.test(usd)) return null;
  // cents × rate(1e-6) = fen × 1e-6; round half up to whole fen.
  const product = cents * rate;
  return (product + 500_000n) / 1_000_000n;
}

/** As usdToCnyMinor, formatted as the "73.00" string the CNY providers expect. */
export function usdToCnyString(usd: string, cnyPerUsd: string): string | null {
  const fen = usdToCnyMinor(usd, cnyPerUsd);
  return fen === null ? null : minorToDecimal(fen, 2);
}
