export interface BackoffOptions {
  /** Delay before the second attempt, before jitter (doubles each time). */
  baseDelayMs: number;
  /** Upper bound of a delay before jitter. */
  maxDelayMs: number;
}

/**
 * Delay after failed attempt number `attempt` (1-based): base × 2^(attempt−1), capped, then "equal
 * jitter": a uniform value in [half, full] of that, so instances retrying together spread out yet
 * every retry still waits at least half the nominal delay.
 */
export function retryDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
