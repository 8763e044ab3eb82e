// Stripe Checkout through the official `stripe` SDK: a Checkout Session per order (redirect to its URL),
// webhooks verified on the raw body (Stripe-Signature, HMAC-SHA256), sessions re-read for re-checks.
import type Stripe from 'stripe';
import type { NotifyVerdict, OrderQueryResult, PayAmount, PaymentContext, PaymentCreated, PaymentOrder, PaymentProvider, RawNotify } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { rejected, requireConfig, requireUrl } from './common.ts';

export interface StripeConfig {
  secretKey: string;
  webhookSecret: string;
  /** e.g. http://127.0.0.1:4242 for a local fake; default the real API. */
  apiBase?: string;
  /** Seconds a webhook signature stays valid (Stripe's default 300). */
  toleranceSeconds?: number;
}

const PAID_EVENTS = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded']);

function clientOptions(apiBase: string | undefined): Record<string, unknown> {
  const opts: Record<string, unknown> = { maxNetworkRetries: 1, timeout: 15_000, telemetry: false };
  if (apiBase) {
    const u = new URL(apiBase);
    opts.host = u.hostname;
    opts.port = u.port || (u.protocol === 'http:' ? '80' : '443');
    opts.protocol = u.protocol.replace(':', '');
  }
  return opts;
}

function amountOf(session: { amount_total?: number | null; currency?: string | null }): PayAmount | null {
  const minor = session.amount_total;
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0 || !session.currency) return null;
  return { currency: session.currency.toUpperCase(), minor };
}

function header(raw: RawNotify, name: string): string | undefined {
  const v = raw.headers[name] ?? raw.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function createStripeProvider(config: StripeConfig): PaymentProvider {
  requireConfig('stripe', { secretKey: config.secretKey, webhookSecret: config.webhookSecret });
  if (config.apiBase) requireUrl('stripe', 'apiBase', config.apiBase);
  // The SDK (~15 MB resident) is loaded on the first call, not at start: most gateways never take
  // Stripe, and the relay does not need it.
  let client: Promise<Stripe> | undefined;
  const sdk = (): Promise<Stripe> =>
    (client ??= import('stripe').then((m) => new m.default(config.secretKey, clientOptions(config.apiBase) as ConstructorParameters<typeof Stripe>[1])));

  function sdkError(what: string, err: unknown): PaymentProviderError {
    // Stripe errors never echo the secret key; keep their short message only.
    const e = err as { type?: string; message?: string };
    const code = e?.type === 'StripeConnectionError' ? 'provider_unreachable' : 'provider_refused';
    return new PaymentProviderError('stripe', `${what}: ${String(e?.message ?? 'error').slice(0, 200)}`, code);
  }

  async function createPayment(order: PaymentOrder, ctx: PaymentContext): Promise<PaymentCreated> {
    const stripe = await sdk();
    let session: Stripe.Checkout.Session;
    try {
      session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [
            { quantity: 1, price_data: { currency: order.amount.currency.toLowerCase(), unit_amount: order.amount.minor, product_data: { name: order.subject } } },
          ],
          success_url: ctx.returnUrl,
          cancel_url: ctx.returnUrl,
          client_reference_id: order.orderNo,
          metadata: { orderNo: order.orderNo },
        },
        // The same order never opens two sessions, even when the create is retried.
        { idempotencyKey: `checkout:${order.orderNo}` },
      );
    } catch (err) {
      throw sdkError('checkout session', err);
    }
    if (!session.url) throw new PaymentProviderError('stripe', 'checkout session has no url', 'bad_provider_answer');
    return { pay: { url: session.url }, tradeNo: session.id };
  }

  async function verifyNotify(raw: RawNotify): Promise<NotifyVerdict> {
    const signature = header(raw, 'stripe-signature');
    if (!signature) return rejected('missing Stripe-Signature', { body: raw.body });
    const stripe = await sdk();
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(raw.body, signature, config.webhookSecret, config.toleranceSeconds);
    } catch {
      return rejected('bad signature', { body: raw.body });
    }
    const fields: Record<string, unknown> = { id: event.id, type: event.type, created: event.created, livemode: event.livemode };
    if (!event.type.startsWith('checkout.session.')) {
      return { ok: true, paid: false, merchantOk: true, orderNo: null, tradeNo: null, amount: null, reason: `event ${event.type} ignored`, fields };
    }
    const session = event.data.object as Stripe.Checkout.Session;
    fields.session = { id: session.id, client_reference_id: session.client_reference_id, payment_status: session.payment_status, amount_total: session.amount_total, currency: session.currency };
    const paid = PAID_EVENTS.has(event.type) && session.payment_status === 'paid';
    const amount = amountOf(session);
    const verdict: NotifyVerdict = {
      // The webhook secret belongs to our endpoint, so a valid signature is our merchant.
      ok: !!session.client_reference_id && amount !== null,
      paid,
      merchantOk: true,
      orderNo: session.client_reference_id ?? null,
      tradeNo: session.id ?? null,
      amount,
      reason: null,
      fields,
    };
    if (!session.client_reference_id) verdict.reason = 'missing client_reference_id';
    else if (!amount) verdict.reason = 'malformed amount_total';
    else if (!paid) verdict.reason = `${event.type} with payment_status ${session.payment_status}`;
    return verdict;
  }

  async function queryOrder(ref: { orderNo: string; tradeNo?: string | null }): Promise<OrderQueryResult> {
    // Checkout sessions are found by their own id, which createPayment returned as tradeNo.
    if (!ref.tradeNo) return { status: 'not_found', orderNo: ref.orderNo, tradeNo: null, amount: null, raw: { reason: 'no session id stored' } };
    const stripe = await sdk();
    let session: Stripe.Checkout.Session;
    try {
      session = await stripe.checkout.sessions.retrieve(ref.tradeNo);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return { status: 'not_found', orderNo: ref.orderNo, tradeNo: ref.tradeNo, amount: null, raw: null };
      throw sdkError('session retrieve', err);
    }
    if (session.client_reference_id !== ref.orderNo) throw new PaymentProviderError('stripe', 'session belongs to another order', 'bad_provider_answer');
    const raw = { id: session.id, status: session.status, payment_status: session.payment_status, amount_total: session.amount_total, currency: session.currency };
    const status = session.payment_status === 'paid' ? 'paid' : session.status === 'expired' ? 'closed' : 'pending';
    return { status, orderNo: ref.orderNo, tradeNo: session.id, amount: amountOf(session), raw };
  }

  return {
    id: 'stripe',
    sandbox: false,
    ack: { status: 200, contentType: 'application/json', body: '{"received":true}' },
    nack: { status: 400, contentType: 'application/json', body: '{"received":false}' },
    createPayment,
    verifyNotify,
    queryOrder,
  };
}
