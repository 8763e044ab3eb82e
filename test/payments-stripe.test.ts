// Stripe Checkout end to end through the official SDK against a local fake API: session create →
// fake "pays" → signed webhook → our verifier (raw body, Stripe-Signature) in a real receiver → 2xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeProvider } from '../src/wallet/payments/stripe.ts';
import type { PaymentOrder, PaymentProvider } from '../src/wallet/payments/index.ts';
import { startFakeStripe, stripeSignatureHeader, type FakeStripe } from './fakes/payments/stripe.ts';
import { startNotifyReceiver, type NotifyReceiver } from './fakes/payments/receiver.ts';

const SECRET = 'sk_test_fake_51Hx';
const WHSEC = 'whsec_test_secret_123';

describe('Stripe end to end', () => {
  let fake: FakeStripe;
  let provider: PaymentProvider;
  let receiver: NotifyReceiver;
  let n = 0;

  beforeAll(async () => {
    fake = await startFakeStripe({ secretKey: SECRET, webhookSecret: WHSEC, retryDelaysMs: [20, 40, 80] });
    provider = createStripeProvider({ secretKey: SECRET, webhookSecret: WHSEC, apiBase: fake.url });
    receiver = await startNotifyReceiver(provider);
    fake.webhookUrl = receiver.url;
  });
  afterAll(async () => {
    await receiver?.close();
    await fake?.close();
  });

  async function openOrder(minor = 1000) {
    n += 1;
    const order: PaymentOrder = { orderNo: `ST${n}`, subject: 'MoleAPI top-up $10', amount: { currency: 'USD', minor } };
    receiver.orders.set(order.orderNo, order);
    const created = await provider.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://127.0.0.1:1/console/wallet' });
    return { order, created };
  }
  const seen = (orderNo: string) => receiver.received.filter((r) => r.verdict.orderNo === orderNo);

  it('creates a Checkout session, pays, the webhook verifies on the raw body, credits once; retrieve says paid', async () => {
    const { order, created } = await openOrder(1000);
    const s = fake.sessions.get(created.tradeNo!)!;
    expect(created.pay).toEqual({ url: `${fake.url}/c/pay/${s.id}` });
    expect(s).toMatchObject({ amount_total: 1000, currency: 'usd', client_reference_id: order.orderNo, metadata: { orderNo: order.orderNo }, payment_status: 'unpaid' });
    expect((await provider.queryOrder({ orderNo: order.orderNo, tradeNo: s.id })).status).toBe('pending');

    const [d] = await fake.pay(order.orderNo);
    expect(d!.attempts).toEqual([{ status: 200, body: '{"received":true}' }]);
    const [got] = seen(order.orderNo);
    expect(got!.verdict).toMatchObject({ ok: true, paid: true, merchantOk: true, orderNo: order.orderNo, tradeNo: s.id, amount: { currency: 'USD', minor: 1000 }, reason: null });
    expect(got!.credited).toBe(true);
    expect(await provider.queryOrder({ orderNo: order.orderNo, tradeNo: s.id })).toMatchObject({ status: 'paid', tradeNo: s.id, amount: { currency: 'USD', minor: 1000 } });
  });

  it('creating twice for one order reuses the session (idempotency key)', async () => {
    const { order, created } = await openOrder(2000);
    const again = await provider.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://r' });
    expect(again.tradeNo).toBe(created.tradeNo);
    expect([...fake.sessions.values()].filter((s) => s.client_reference_id === order.orderNo)).toHaveLength(1);
  });

  it('duplicate webhook: acknowledged twice, credited once', async () => {
    const { order } = await openOrder();
    const ds = await fake.pay(order.orderNo, { twist: 'duplicate' });
    expect(ds.map((d) => d.acknowledged)).toEqual([true, true]);
    expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false]);
  });

  it('late webhook (within the tolerance) is trusted; one signed too long ago is refused', async () => {
    const a = await openOrder();
    expect((await fake.pay(a.order.orderNo, { twist: 'late', lateMs: 100 }))[0]!.acknowledged).toBe(true);
    const b = await openOrder();
    const [d] = await fake.pay(b.order.orderNo, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(d!.acknowledged).toBe(false);
    expect(seen(b.order.orderNo)).toHaveLength(0); // no order number is read from an unverified body
    expect(receiver.received.at(-1)!.verdict).toMatchObject({ ok: false, reason: 'bad signature' });
  });

  it('tampered amount (correctly signed) is refused by the order check; the fake retries', async () => {
    const { order } = await openOrder(1000);
    const [d] = await fake.pay(order.orderNo, { twist: 'tampered-amount', tamperedAmount: '100' });
    expect(d!.acknowledged).toBe(false);
    expect(d!.attempts.map((a) => a.status)).toEqual([400, 400, 400, 400]);
    expect(seen(order.orderNo)[0]!.refusal).toBe('amount mismatch: paid 100, expected 1000');
    expect(receiver.credited.has(order.orderNo)).toBe(false);
  });

  it('another account\'s event (other endpoint secret) and an altered body are bad signatures', async () => {
    const before = receiver.received.length;
    const a = await openOrder();
    await fake.pay(a.order.orderNo, { twist: 'wrong-merchant' });
    const b = await openOrder();
    await fake.pay(b.order.orderNo, { twist: 'bad-signature' });
    const refused = receiver.received.slice(before);
    expect(refused).toHaveLength(8); // 4 attempts each
    expect(refused.every((r) => r.verdict.ok === false && r.verdict.reason === 'bad signature')).toBe(true);
    expect(receiver.credited.has(a.order.orderNo) || receiver.credited.has(b.order.orderNo)).toBe(false);
  });

  it('unpaid completion and other event types are acknowledged without credit', async () => {
    const { order } = await openOrder();
    const [d1] = await fake.pay(order.orderNo, { paymentStatus: 'unpaid' });
    expect(d1!.acknowledged).toBe(true);
    expect(seen(order.orderNo)[0]).toMatchObject({ credited: false, refusal: null, verdict: { ok: true, paid: false } });
    const [d2] = await fake.pay(order.orderNo, { eventType: 'payment_intent.created' });
    expect(d2!.acknowledged).toBe(true);
    expect(receiver.received.at(-1)!.verdict).toMatchObject({ ok: true, paid: false, orderNo: null, reason: 'event payment_intent.created ignored' });
    expect(receiver.credited.has(order.orderNo)).toBe(false);
  });

  it('the fake re-sends until it gets a 2xx', async () => {
    const { order } = await openOrder();
    receiver.wrongAcks = 2;
    const [d] = await fake.pay(order.orderNo);
    expect(d!.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false, false]);
  });

  it('verifies the exact bytes: re-serialised JSON with the same content fails', async () => {
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'checkout.session.completed', created: 1, livemode: false, data: { object: { id: 'cs_1', client_reference_id: 'ST1', payment_status: 'paid', amount_total: 1000, currency: 'usd' } } });
    const header = stripeSignatureHeader(body, WHSEC);
    expect((await provider.verifyNotify({ method: 'POST', query: '', body, headers: { 'stripe-signature': header } })).ok).toBe(true);
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    expect((await provider.verifyNotify({ method: 'POST', query: '', body: pretty, headers: { 'stripe-signature': header } })).ok).toBe(false);
    expect((await provider.verifyNotify({ method: 'POST', query: '', body, headers: {} })).reason).toBe('missing Stripe-Signature');
    expect((await provider.verifyNotify({ method: 'POST', query: '', body: 'not json', headers: { 'stripe-signature': 'garbage' } })).ok).toBe(false);
  });

  it('a wrong secret key is refused by the fake; unknown sessions are not_found', async () => {
    const wrong = createStripeProvider({ secretKey: 'sk_test_wrong', webhookSecret: WHSEC, apiBase: fake.url });
    const err = await wrong.createPayment({ orderNo: 'STW', subject: 't', amount: { currency: 'USD', minor: 100 } }, { notifyUrl: receiver.url, returnUrl: 'http://r' }).catch((e) => e);
    expect(err.message).toMatch(/Invalid API Key/);
    expect(err.message).not.toContain('sk_test_wrong');
    expect(fake.rejections.some((r) => r.reason === 'bad api key')).toBe(true);
    expect((await provider.queryOrder({ orderNo: 'STX', tradeNo: 'cs_test_nope' })).status).toBe('not_found');
    expect((await provider.queryOrder({ orderNo: 'STX' })).status).toBe('not_found');
  });
});
