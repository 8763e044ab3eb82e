// Top-up orders (`payment_orders`) and the one transaction that credits a paid order. Every state
// change is a conditional UPDATE, so two callbacks (or a callback and an admin re-check) racing for the
// same order cannot both credit it: the one whose UPDATE matched writes the ledger entries.
import { randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../db/index.ts';
import { applyEntry } from '../ledger/entries.ts';
import { balanceAlertsAfterEntry } from './balance-alerts.ts';
import { memoryBook, memoryHolds } from '../ledger/memory-holds.ts';
import type { PayInstruction, PayChannel, ProviderId } from './payments/index.ts';
import { enqueue } from '../outbox/index.ts';
import { orderExpiryEntry } from './order-expiry.ts';
import { afterTopupCredited } from './topup-hooks.ts';

export type OrderStatus = 'pending' | 'paid' | 'expired' | 'failed' | 'refunded';

export interface PaymentOrderRecord {
  id: number;
  orderNo: string;
  userId: number;
  provider: ProviderId;
  channel: PayChannel | null;
  usdCents: number;
  points: number;
  bonusPoints: number;
  currency: string;
  payMinor: number;
  rate: string;
  status: OrderStatus;
  tradeNo: string | null;
  pay: PayInstruction | null;
  paidAfterExpiry: boolean;
  createdAt: number;
  expiresAt: number;
  paidAt: number | null;
  expiredAt: number | null;
  confirmedBy: string | null;
  refundedAt: number | null;
  refundedBy: string | null;
  refundReason: string | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function orderFromRow(r: Record<string, any>): PaymentOrderRecord {
  return {
    id: Number(r.id),
    orderNo: r.order_no,
    userId: Number(r.user_id),
    provider: r.provider,
    channel: r.channel ?? null,
    usdCents: Number(r.usd_cents),
    points: Number(r.points),
    bonusPoints: Number(r.bonus_points),
    currency: r.currency,
    payMinor: Number(r.pay_minor),
    rate: r.rate,
    status: r.status,
    tradeNo: r.trade_no ?? null,
    pay: r.pay_json ? (JSON.parse(r.pay_json) as PayInstruction) : null,
    paidAfterExpiry: Number(r.paid_after_expiry) === 1,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    paidAt: num(r.paid_at),
    expiredAt: num(r.expired_at),
    confirmedBy: r.confirmed_by ?? null,
    refundedAt: num(r.refunded_at),
    refundedBy: r.refunded_by ?? null,
    refundReason: r.refund_reason ?? null,
  };
}

/** `T` + 13 digits of time + 8 random digits: letters and digits only, short enough for every provider. */
export function newOrderNo(now = Date.now()): string {
  const rand = randomBytes(5).readUIntBE(0, 5) % 100_000_000;
  return `T${now}${String(rand).padStart(8, '0')}`;
}

export interface NewOrder {
  orderNo: string;
  userId: number;
  provider: ProviderId;
  channel: PayChannel | null;
  usdCents: number;
  points: number;
  bonusPoints: number;
  currency: string;
  payMinor: number;
  rate: string;
  expiresAt: number;
  createdAt: number;
}

/** Inserts a pending order and, in the same transaction, its expiry (an outbox row due at expiresAt). */
export async function insertOrder(db: Database, o: NewOrder): Promise<void> {
  await db.tx(async (q) => {
    await q.run(
      `INSERT INTO payment_orders (order_no, user_id, provider, channel, usd_cents, points, bonus_points, currency, pay_minor, rate, status, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      [o.orderNo, o.userId, o.provider, o.channel, o.usdCents, o.points, o.bonusPoints, o.currency, o.payMinor, o.rate, o.createdAt, o.expiresAt],
    );
    await enqueue(q, orderExpiryEntry(o.orderNo, o.expiresAt));
  });
}

export async function findOrder(q: Queryable, orderNo: string): Promise<PaymentOrderRecord | undefined> {
  const r = await q.get('SELECT * FROM payment_orders WHERE order_no = ?', [orderNo]);
  return r ? orderFromRow(r) : undefined;
}

/** Records how the user pays (and the provider's trade number when it gave one at creation). */
export async function recordPayment(db: Database, orderNo: string, pay: PayInstruction, tradeNo: string | null): Promise<void> {
  await db.run('UPDATE payment_orders SET pay_json = ?, trade_no = COALESCE(?, trade_no) WHERE order_no = ?', [JSON.stringify(pay), tradeNo, orderNo]);
}

/** The provider refused to create the payment: nothing can be paid, the order fails. */
export async function markFailed(db: Database, orderNo: string): Promise<void> {
  await db.run(`UPDATE payment_orders SET status = 'failed' WHERE order_no = ? AND status = 'pending'`, [orderNo]);
}

export interface CreditResult {
  /** True when this call moved the order to paid and wrote the credit; false for a replay. */
  credited: boolean;
  order: PaymentOrderRecord;
}

/**
 * Order pending (or expired: the money was taken, so a late payment still counts, flagged) → paid, and
 * the ledger credits, in ONE transaction: `topup:<orderNo>` for the amount and, when the tier carries
 * one, `topup:<orderNo>:bonus` for the bonus. A replay matches no row and credits nothing.
 */
export async function creditPaidOrder(
  db: Database,
  orderNo: string,
  paid: { tradeNo: string | null; confirmedBy?: string | null; now?: number; referralRebatePercent: number },
): Promise<CreditResult | undefined> {
  const now = paid.now ?? Date.now();
  return db.tx(async (q) => {
    const row = await q.get(
      `UPDATE payment_orders
         SET paid_after_expiry = CASE WHEN status = 'expired' THEN 1 ELSE 0 END,
             status = 'paid', paid_at = ?, trade_no = COALESCE(?, trade_no), confirmed_by = ?
       WHERE order_no = ? AND status IN ('pending', 'expired')
       RETURNING *`,
      [now, paid.tradeNo, paid.confirmedBy ?? null, orderNo],
    );
    if (!row) {
      const existing = await findOrder(q, orderNo);
      return existing ? { credited: false, order: existing } : undefined;
    }
    const order = orderFromRow(row);
    const usd = (order.usdCents / 100).toFixed(2); // display only; amounts below are integers
    await applyEntry(q, { userId: order.userId, kind: 'topup', amount: order.points, reference: `topup:${orderNo}`, note: `Top-up $${usd} via ${order.provider}` });
    if (order.bonusPoints > 0) {
      await applyEntry(q, { userId: order.userId, kind: 'topup', amount: order.bonusPoints, reference: `topup:${orderNo}:bonus`, note: `Tier bonus for top-up ${orderNo}` });
    }
    await afterTopupCredited(q, order, { referralRebatePercent: paid.referralRebatePercent });
    return { credited: true, order };
  });
}

export class OrderStateError extends Error {}

/**
 * Refund as an adjustment: order paid → refunded and a debit of everything it credited (amount and
 * bonus), reference `refund:<orderNo>`, in one transaction. The balance may go negative (the money
 * was returned outside the gateway; what was spent stays spent).
 */
export async function refundOrder(db: Database, orderNo: string, reason: string, by: string): Promise<PaymentOrderRecord> {
  const now = Date.now();
  const order = await db.tx(async (q) => {
    const row = await q.get(
      `UPDATE payment_orders SET status = 'refunded', refunded_at = ?, refunded_by = ?, refund_reason = ?
       WHERE order_no = ? AND status = 'paid' RETURNING *`,
      [now, by, reason, orderNo],
    );
    if (!row) throw new OrderStateError('only a paid order can be refunded');
    const o = orderFromRow(row);
    const entry = await applyEntry(q, {
      userId: o.userId,
      kind: 'adjustment',
      amount: -(o.points + o.bonusPoints),
      reference: `refund:${orderNo}`,
      note: `Refund of top-up ${orderNo}: ${reason} (by ${by})`,
      keepNonNegative: false,
    });
    // In the same transaction: the alert exists exactly when the refund does (kick the outbox after).
    await balanceAlertsAfterEntry(q, entry);
    return o;
  });
  // In-memory holds keep a floor of each balance; every committed debit must lower it.
  if (memoryHolds(db)) memoryBook(db).charged(order.userId, order.points + order.bonusPoints);
  return order;
}

/** Keeps one callback (or re-check / confirmation) with its verdict, for the audit. */
export async function auditCallback(
  db: Database,
  a: { provider: string; orderNo: string | null; source: 'notify' | 'recheck' | 'confirm'; method: string | null; fields: unknown; verdict: string; credited: boolean },
): Promise<void> {
  const fields = JSON.stringify(a.fields ?? {}).slice(0, 20_000);
  await db.run(
    'INSERT INTO payment_callbacks (provider, order_no, source, method, fields, verdict, credited, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [a.provider.slice(0, 32), a.orderNo?.slice(0, 64) ?? null, a.source, a.method, fields, a.verdict.slice(0, 500), a.credited ? 1 : 0, Date.now()],
  );
}

/** The user's orders still waiting for payment (GET /api/wallet's pendingOrders). */
export async function pendingOrderCount(q: Queryable, userId: number): Promise<number> {
  const r = await q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM payment_orders WHERE user_id = ? AND status = 'pending'`, [userId]);
  return Number(r?.n ?? 0);
}
