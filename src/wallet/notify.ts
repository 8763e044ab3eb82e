// Provider callbacks and the admin's ways to settle an order (re-check with the provider, confirm a
// bank transfer). A callback credits only when the signature verifies AND merchant, order, currency
// and amount match the stored order AND the provider says paid; the acknowledgement is sent only
// after the credit committed. Every callback is kept in `payment_callbacks` with its verdict.
import type { Gateway } from '../gateway.ts';
import { checkAgainstOrder, type NotifyReply, type NotifyVerdict, type OrderQueryResult, type RawNotify } from './payments/index.ts';
import { auditCallback, creditPaidOrder, findOrder, type PaymentOrderRecord } from './orders.ts';
import { enabledProvider, isProviderId } from './provider-settings.ts';

const NOT_FOUND: NotifyReply = { status: 404, contentType: 'text/plain; charset=utf-8', body: 'unknown payment provider' };
const RETRY_LATER: NotifyReply = { status: 503, contentType: 'text/plain; charset=utf-8', body: 'try again later' };

const storedAmount = (o: PaymentOrderRecord) => ({ orderNo: o.orderNo, amount: { currency: o.currency, minor: o.payMinor } });

export async function handleNotify(gw: Gateway, providerId: string, raw: RawNotify): Promise<NotifyReply> {
  const provider = isProviderId(providerId) ? await enabledProvider(gw.db, gw.secrets, providerId) : null;
  if (!provider) {
    await auditCallback(gw.db, { provider: providerId, orderNo: null, source: 'notify', method: raw.method, fields: { query: raw.query.slice(0, 2000) }, verdict: 'refused: provider unknown or not enabled', credited: false });
    return NOT_FOUND;
  }
  const verdict = await provider.verifyNotify(raw);
  const audit = (v: string, credited = false, orderNo = verdict.orderNo) =>
    auditCallback(gw.db, { provider: providerId, orderNo, source: 'notify', method: raw.method, fields: verdict.fields, verdict: v, credited });

  if (!verdict.ok) {
    await audit(`refused: ${verdict.reason ?? 'not verified'}`);
    return provider.nack;
  }
  // Trusted but about no order of ours (e.g. a Stripe event we do not use): acknowledged, nothing credited.
  if (!verdict.orderNo) {
    await audit(`ignored: ${verdict.reason ?? 'no order'}`);
    return provider.ack;
  }
  const order = await findOrder(gw.db, verdict.orderNo);
  if (!order || order.provider !== providerId) {
    await audit('refused: unknown order');
    return provider.nack;
  }
  const mismatch = checkAgainstOrder(verdict, storedAmount(order));
  if (mismatch) {
    await audit(`refused: ${mismatch}`);
    gw.log.warn({ provider: providerId, orderNo: order.orderNo, mismatch }, 'payment callback does not match its order');
    return provider.nack;
  }
  if (!verdict.paid) {
    await audit(`not paid: ${verdict.reason ?? 'status not paid'}`);
    return provider.ack;
  }
  let result;
  try {
    result = await creditPaidOrder(gw.db, order.orderNo, { tradeNo: verdict.tradeNo, referralRebatePercent: gw.settings.current.referralRebatePercent });
  } catch (err) {
    gw.log.error({ err, provider: providerId, orderNo: order.orderNo }, 'crediting a paid order failed; the provider will retry');
    await audit('error: credit not committed').catch(() => undefined);
    return RETRY_LATER;
  }
  await audit(verdictText(result?.credited ?? false, result?.order), result?.credited ?? false);
  return provider.ack;
}

function verdictText(credited: boolean, order: PaymentOrderRecord | undefined): string {
  if (credited) return order?.paidAfterExpiry ? 'credited (paid after expiry)' : 'credited';
  return `replay: order already ${order?.status ?? 'settled'}`;
}

export interface RecheckResult {
  order: PaymentOrderRecord;
  provider: Pick<OrderQueryResult, 'status' | 'tradeNo' | 'amount'>;
  credited: boolean;
}

export class SettleRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Asks the provider about an order; credits it when the provider says paid with the stored amount. */
export async function recheckOrder(gw: Gateway, order: PaymentOrderRecord): Promise<RecheckResult> {
  const provider = await enabledProvider(gw.db, gw.secrets, order.provider);
  if (!provider) throw new SettleRefused('provider_disabled', `Provider ${order.provider} is not enabled.`);
  const answer = await provider.queryOrder({ orderNo: order.orderNo, tradeNo: order.tradeNo });
  const asVerdict: NotifyVerdict = { ok: true, paid: answer.status === 'paid', merchantOk: true, orderNo: answer.orderNo, tradeNo: answer.tradeNo, amount: answer.amount, reason: null, fields: {} };
  const mismatch = answer.status === 'paid' ? checkAgainstOrder(asVerdict, storedAmount(order)) : null;
  let credited = false;
  let verdict = `provider says ${answer.status}`;
  if (answer.status === 'paid' && mismatch) verdict = `refused: ${mismatch}`;
  else if (answer.status === 'paid') {
    const r = await creditPaidOrder(gw.db, order.orderNo, { tradeNo: answer.tradeNo, referralRebatePercent: gw.settings.current.referralRebatePercent });
    credited = r?.credited ?? false;
    verdict = credited ? 'credited' : `replay: order already ${r?.order.status}`;
  }
  await auditCallback(gw.db, { provider: order.provider, orderNo: order.orderNo, source: 'recheck', method: null, fields: answer.raw, verdict, credited });
  const { status, tradeNo, amount } = answer;
  return { order: (await findOrder(gw.db, order.orderNo))!, provider: { status, tradeNo, amount }, credited };
}

/** An admin confirms a bank transfer was received: credited like a paid order, with who and when. */
export async function confirmTransfer(gw: Gateway, order: PaymentOrderRecord, admin: string, note: string | undefined): Promise<PaymentOrderRecord> {
  if (order.provider !== 'transfer') throw new SettleRefused('not_a_transfer', 'Only bank-transfer orders are confirmed by hand; use recheck for the others.');
  if (order.status !== 'pending' && order.status !== 'expired') throw new SettleRefused('order_not_open', `The order is ${order.status}.`);
  const r = await creditPaidOrder(gw.db, order.orderNo, { tradeNo: null, confirmedBy: admin, referralRebatePercent: gw.settings.current.referralRebatePercent });
  const credited = r?.credited ?? false;
  await auditCallback(gw.db, { provider: 'transfer', orderNo: order.orderNo, source: 'confirm', method: null, fields: { admin, note: note ?? null }, verdict: credited ? `confirmed by ${admin}` : 'replay', credited });
  if (!credited) throw new SettleRefused('order_not_open', `The order is ${r?.order.status ?? 'gone'}.`);
  return r!.order;
}
