// Payment amounts for display, computed exactly from decimal strings (never floats), the way the
// server prices an order: USD cents × CNY-per-USD, rounded half up to the fen.
import { formatUsd } from '../../lib/money.ts';

function decimalToScaled(value: string, scale: number): bigint | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!m || (m[2] ?? '').length > scale) return null;
  return BigInt(m[1]!) * 10n ** BigInt(scale) + BigInt((m[2] ?? '').padEnd(scale, '0') || '0');
}

/** The CNY price of a USD amount ("10" at "7.2" → "72.00"); null when either is not a decimal. */
export function cnyFor(usd: string, cnyPerUsd: string): string | null {
  const cents = decimalToScaled(usd, 2);
  const rate = decimalToScaled(cnyPerUsd, 6);
  if (cents === null || rate === null) return null;
  const fen = (cents * rate + 500_000n) / 1_000_000n;
  return `${fen / 100n}.${String(fen % 100n).padStart(2, '0')}`;
}

/** "¥72.00", "$10.00": an amount in the payment currency. */
export function formatPay(amount: string, currency: string): string {
  if (currency === 'USD') return formatUsd(amount);
  if (currency === 'CNY') {
    const [whole = '0', frac] = amount.split('.');
    return `¥${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac === undefined ? '' : `.${frac}`}`;
  }
  return `${amount} ${currency}`;
}

/** A typed USD amount as the API wants it ("10", "10.5"), or null: digits with at most 2 decimals. */
export function usdInput(text: string): string | null {
  const v = text.trim().replace(/^\$/, '');
  return /^\d{1,9}(?:\.\d{1,2})?$/.test(v) ? v : null;
}

/** Compares two non-negative decimal strings exactly: -1, 0 or 1. */
export function compareUsd(a: string, b: string): number {
  const x = decimalToScaled(a, 6);
  const y = decimalToScaled(b, 6);
  if (x === null || y === null) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}
