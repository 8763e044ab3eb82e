// Work that must happen in the same transaction as a top-up credit. The referral rebate on paid
// top-ups (WALLET-B) hooks in here: it runs after the order moved to paid and its credits were
// written, and a throw rolls the whole credit back (the provider then re-sends the callback).
import type { Queryable } from '../db/index.ts';
import type { PaymentOrderRecord } from './orders.ts';

export async function afterTopupCredited(_q: Queryable, _order: PaymentOrderRecord): Promise<void> {
  // WALLET-B: referral rebate (setting referralRebatePercent) goes here, e.g. a `referral` ledger
  // entry for the inviter with reference `rebate:<orderNo>`.
}
