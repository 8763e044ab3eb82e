// Creating a top-up: validate the amount against the settings, store the order, ask the provider how
// the user pays. The sandbox completes at once through the same credit transaction as a callback.
import type { Gateway } from '../gateway.ts';
import { compareDecimal, decimalToMinor, usdToCnyMinor, usdToPoints } from './payments/money.ts';
import { PaymentProviderError, type PayChannel, type ProviderId } from './payments/index.ts';
import { creditPaidOrder, findOrder, insertOrder, markFailed, newOrderNo, recordPayment, type PaymentOrderRecord } from './orders.ts';
import { walletClock } from './clock.ts';
import { enabledProvider, enabledProviderIds } from './provider-settings.ts';
import { bonusFor } from './topup-settings.ts';

/** Providers that offer a choice of wallet app, and the default. */
export const PROVIDER_CHANNELS: Partial<Record<ProviderId, { channels: PayChannel[]; default: PayChannel }>> = {
  epay: { channels: ['alipay', 'wxpay'], default: 'alipay' },
  lantu: { channels: ['wxpay', 'alipay'], default: 'wxpay' },
};

/** Stripe charges cards in USD; everything else is paid in CNY at `cnyPerUsd`. */
export const currencyOf = (p: ProviderId) => (p === 'stripe' ? 'USD' : 'CNY');

/** A refused top-up: 400 naming the field (or 409 when the method cannot be used now). */
export class TopupRefused extends Error {
  constructor(
    readonly field: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ProviderFailed extends Error {
  constructor(
    readonly orderNo: string,
    readonly providerError: PaymentProviderError,
  ) {
    super(providerError.message);
  }
}

export interface TopupRequest {
  amount: string;
  method: ProviderId;
  channel?: PayChannel;
}

/** The base URL providers reach us at: the setting, or the origin this request came to. */
export function publicBase(gw: Gateway, requestOrigin: string): string {
  return gw.settings.current.publicBaseUrl || requestOrigin;
}

export async function createTopup(gw: Gateway, userId: number, req: TopupRequest, origin: string, device?: 'pc' | 'mobile', clientIp?: string): Promise<PaymentOrderRecord> {
  const s = gw.settings.current;
  const points = usdToPoints(req.amount);
  if (points === null) throw new TopupRefused('amount', 'invalid_amount', 'amount: a USD decimal string with at most 2 decimals, e.g. "10.50"');
  if (compareDecimal(req.amount, s.minTopupUsd) === -1) throw new TopupRefused('amount', 'amount_too_small', `amount: the minimum top-up is $${s.minTopupUsd}`);
  if (compareDecimal(req.amount, s.maxTopupUsd) === 1) throw new TopupRefused('amount', 'amount_too_large', `amount: the maximum top-up is $${s.maxTopupUsd}`);
  const choice = PROVIDER_CHANNELS[req.method];
  if (req.channel && !choice?.channels.includes(req.channel)) throw new TopupRefused('channel', 'invalid_channel', `channel: ${req.method} takes no channel "${req.channel}"`);
  const provider = await enabledProvider(gw.db, gw.secrets, req.method);
  if (!provider) throw new TopupRefused('method', 'method_unavailable', `method: "${req.method}" is not enabled (enabled: ${(await enabledProviderIds(gw.db)).join(', ') || 'none'})`);

  const cents = decimalToMinor(req.amount, 2)!;
  const currency = currencyOf(req.method);
  const payMinor = currency === 'USD' ? cents : usdToCnyMinor(req.amount, s.cnyPerUsd);
  if (payMinor === null || payMinor <= 0n) throw new TopupRefused('amount', 'invalid_amount', 'amount: too small to pay in the payment currency');
  const now = walletClock.now();
  const orderNo = newOrderNo(now);
  const channel = choice ? (req.channel ?? choice.default) : null;
  await insertOrder(gw.db, {
    orderNo,
    userId,
    provider: req.method,
    channel,
    usdCents: Number(cents),
    points: Number(points),
    bonusPoints: bonusFor(s.topupTiers, req.amount),
    currency,
    payMinor: Number(payMinor),
    rate: currency === 'USD' ? '1' : s.cnyPerUsd,
    createdAt: now,
    expiresAt: now + s.orderExpiryMinutes * 60_000,
  });

  const base = publicBase(gw, origin);
  let created;
  try {
    created = await provider.createPayment(
      { orderNo, subject: `MoleAPI top-up $${req.amount}`, amount: { currency, minor: Number(payMinor) }, ...(channel ? { channel } : {}) },
      { notifyUrl: `${base}/api/payment/notify/${req.method}`, returnUrl: `${base}/wallet?order=${orderNo}`, device, clientIp },
    );
  } catch (err) {
    if (!(err instanceof PaymentProviderError)) throw err;
    // A refusal means nothing can be paid; an unreachable provider may still have opened the payment,
    // so that order stays pending (a payment for it is credited; otherwise it expires).
    if (err.code !== 'provider_unreachable') await markFailed(gw.db, orderNo);
    throw new ProviderFailed(orderNo, err);
  }
  await recordPayment(gw.db, orderNo, created.pay, created.tradeNo ?? created.completed?.tradeNo ?? null);
  if (created.completed) await creditPaidOrder(gw.db, orderNo, { tradeNo: created.completed.tradeNo, referralRebatePercent: gw.settings.current.referralRebatePercent });
  return (await findOrder(gw.db, orderNo))!;
}
