// Money is integer quota points; 500,000 points = 1 USD. Decimal strings are parsed exactly (no floats).
export const POINTS_PER_USD = 500_000n;
export const MICRO = 1_000_000n;

export interface Money {
  quota: number;
  usd: string;
}

export function money(quota: number | bigint): Money {
  const q = BigInt(quota);
  const neg = q < 0n;
  const abs = neg ? -q : q;
  // quota / 500000 = quota * 2 / 1e6: always exact at 6 decimals.
  const micro = abs * 2n;
  const whole = micro / MICRO;
  const frac = (micro % MICRO).toString().padStart(6, '0');
  return { quota: Number(q), usd: `${neg ? '-' : ''}${whole}.${frac}` };
}

/** Parses a non-negative decimal ("2", "0.15", 3.5) into millionths. Returns null if invalid or > 6 decimals. */
export function parseMicros(value: unknown): bigint | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value.trim() : '';
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return null;
  return BigInt(m[1]!) * MICRO + BigInt((m[2] ?? '').padEnd(6, '0'));
}

/** Formats an integer count of 10^-digits units as a plain decimal, without trailing zeros. */
export function formatDecimal(value: bigint | number, digits: number): string {
  const v = BigInt(value);
  const unit = 10n ** BigInt(digits);
  const whole = v / unit;
  const frac = (v % unit).toString().padStart(digits, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

export function formatMicros(micros: bigint | number): string {
  return formatDecimal(micros, 6);
}

/** Integer division rounding up, for non-negative bigints. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
