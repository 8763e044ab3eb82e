/** The wallet's clock; tests replace `now` to move time (e.g. past the invoice delay, or an order's expiry). */
export const walletClock = { now: (): number => Date.now() };
