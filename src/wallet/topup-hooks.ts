// Work that must happen in the same transaction as a top-up credit: it runs after the order moved to
// paid and its credits were written, and a throw rolls the whole credit back (the provider then
// re-sends the callback).
import type { Queryable } from '../db/index.ts';
import type { Settings } from '../settings/store.ts';
import type { PaymentOrderRecord } from './orders.ts';
import { applyReferralRebate } from './referral.ts';

export async function afterTopupCredited(q: Queryable, order: PaymentOrderRecord, settings: Pick<Settings, 'referralRebatePercent'>): Promise<void> {
  // The inviter's rebate is a share of what was paid for (not of a tier bonus); sandbox orders move no
  // real money, so they earn none.
  if (order.provider === 'sandbox') return;
  await applyReferralRebate(q, { inviteeId: order.userId, orderNo: order.orderNo, paidQuota: order.points, settings });
}
