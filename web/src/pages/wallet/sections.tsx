import type { ComponentType } from 'react';

/**
 * Wallet sections that exist only when the API has them (top-up, redemption codes, referral,
 * enterprise orders and invoices). Each feature adds its component here when its endpoints land;
 * until then nothing is shown for it — no placeholder promises a feature that is not there.
 */
export const WALLET_SECTIONS: { id: string; Component: ComponentType }[] = [];
