import { POINTS_PER_USD } from './money.ts';

/** Integer points as a plain USD decimal for an input field ("1", "0.25", "0.000002"), exactly. */
export function pointsToUsdInput(points: number): string {
  const negative = points < 0;
  const micros = BigInt(Math.abs(points)) * 2n; // 1 point = 2 micro-USD (500,000 points per USD)
  const whole = micros / 1_000_000n;
  const frac = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

// Guard for the constant above: 1 point must stay 2 micro-USD.
if (1_000_000 / POINTS_PER_USD !== 2) throw new Error('pointsToUsdInput assumes 500,000 points per USD');
