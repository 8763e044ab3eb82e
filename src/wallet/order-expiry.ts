// Top-up orders expire from the durable outbox, not from a timer of this process: creating an order
// enqueues, in the same transaction, a row due at the order's expiry time, which the gateway's outbox
// worker runs then (on whichever instance claims it). Pending rows survive a restart, so an order
// expires at its time whatever happened to the process that created it.
import type { Database, Queryable } from '../db/index.ts';
import type { OutboxEntry, OutboxHandler } from '../outbox/index.ts';

export const ORDER_EXPIRE_KIND = 'order.expire';

export interface OrderExpirePayload {
  orderNo: string;
}

export function orderExpiryEntry(orderNo: string, expiresAt: number): OutboxEntry {
  const payload: OrderExpirePayload = { orderNo };
  return { kind: ORDER_EXPIRE_KIND, payload, dedupeKey: `order.expire:${orderNo}`, runAt: expiresAt };
}

/**
 * A pending order past its expiry becomes expired (a late payment is still credited). Conditional, so
 * an order paid meanwhile, or one not yet due, is left alone; returns whether it expired.
 */
export async function expireOrder(q: Queryable, orderNo: string, now: number): Promise<boolean> {
  const r = await q.run(`UPDATE payment_orders SET status = 'expired', expired_at = ? WHERE order_no = ? AND status = 'pending' AND expires_at <= ?`, [now, orderNo, now]);
  return r.changes === 1;
}

/**
 * Expires the order when it is still pending. An order not yet due (the row was claimed by an
 * instance whose clock runs ahead) is retried with the outbox's backoff.
 */
export function orderExpiryHandler(db: Database, now: () => number = Date.now): OutboxHandler {
  return async (payload: OrderExpirePayload) => {
    const at = now();
    if (await expireOrder(db, payload.orderNo, at)) return;
    const order = await db.get<{ status: string; expires_at: number }>('SELECT status, expires_at FROM payment_orders WHERE order_no = ?', [payload.orderNo]);
    if (order?.status === 'pending' && Number(order.expires_at) > at) throw new Error(`order ${payload.orderNo} is not due until ${new Date(Number(order.expires_at)).toISOString()}`);
  };
}
