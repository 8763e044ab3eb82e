// Alipay end to end through the official SDK against a local fake gateway, with RSA keypairs made
// here for the app and the platform: page pay link and precreate QR → fake "pays" → RSA2-signed
// notify → our verifier in a real receiver → `success`; bad notifies refused; trade.query re-check.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlipayProvider, normaliseAlipayPrivateKey } from '../src/wallet/payments/alipay.ts';
import type { PaymentOrder, PaymentProvider } from '../src/wallet/payments/index.ts';
import { PaymentProviderError } from '../src/wallet/payments/index.ts';
import { startFakeAlipay, type FakeAlipay } from './fakes/payments/alipay.ts';
import { startNotifyReceiver, type NotifyReceiver } from './fakes/payments/receiver.ts';

const APP_ID = '2021000000000001';
const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: typeof app.privateKey, type: 'pkcs1' | 'pkcs8') => k.export({ type, format: 'pem' }).toString();
const bare = (p: string) => p.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
const platformPublicPem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('Alipay end to end', () => {
  let fake: FakeAlipay;
  let provider: PaymentProvider;
  let receiver: NotifyReceiver;
  let n = 0;

  beforeAll(async () => {
    fake = await startFakeAlipay({ appId: APP_ID, appPublicKey: app.publicKey, platformPrivateKey: platform.privateKey, retryDelaysMs: [20, 40, 80] });
    // PKCS#8 PEM private key, PEM public key.
    provider = createAlipayProvider({ gateway: fake.gateway, appId: APP_ID, privateKey: pem(app.privateKey, 'pkcs8'), alipayPublicKey: platformPublicPem });
    receiver = await startNotifyReceiver(provider);
  });
  afterAll(async () => {
    await receiver?.close();
    await fake?.close();
  });

  async function openOrder(minor = 7300, p: PaymentProvider = provider) {
    n += 1;
    const order: PaymentOrder = { orderNo: `AL${n}`, subject: 'MoleAPI 充值', amount: { currency: 'CNY', minor } };
    receiver.orders.set(order.orderNo, order);
    const created = await p.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://127.0.0.1:1/console/wallet' });
    if (created.pay.url) expect((await fetch(created.pay.url)).status).toBe(200); // the browser opens the cashier
    return { order, created };
  }
  const seen = (orderNo: string) => receiver.received.filter((r) => r.verdict.fields.out_trade_no === orderNo);

  it('page pay: link signed for the gateway; pays; the notify verifies and is acknowledged; trade.query says paid', async () => {
    const { order, created } = await openOrder();
    const url = new URL(created.pay.url!);
    expect(`${url.origin}${url.pathname}`).toBe(fake.gateway);
    expect(url.searchParams.get('method')).toBe('alipay.trade.page.pay');
    expect(JSON.parse(url.searchParams.get('biz_content')!)).toMatchObject({ out_trade_no: order.orderNo, total_amount: '73.00', product_code: 'FAST_INSTANT_TRADE_PAY' });
    const trade = fake.trades.get(order.orderNo)!;
    expect(trade).toMatchObject({ totalAmount: '73.00', status: 'WAIT_BUYER_PAY', notifyUrl: receiver.url });
    expect((await provider.queryOrder({ orderNo: order.orderNo })).status).toBe('pending');

    const [d] = await fake.pay(order.orderNo);
    expect(d!.attempts).toEqual([{ status: 200, body: 'success' }]);
    const [got] = seen(order.orderNo);
    expect(got!.verdict).toMatchObject({ ok: true, paid: true, merchantOk: true, orderNo: order.orderNo, tradeNo: trade.tradeNo, amount: { currency: 'CNY', minor: 7300 }, reason: null });
    expect(got!.credited).toBe(true);
    expect(await provider.queryOrder({ orderNo: order.orderNo })).toMatchObject({ status: 'paid', tradeNo: trade.tradeNo, amount: { currency: 'CNY', minor: 7300 } });
  });

  it('precreate QR with a PKCS#1 bare-base64 key and bare public key; the signed answer is verified', async () => {
    const qr = createAlipayProvider({ gateway: fake.gateway, appId: APP_ID, privateKey: bare(pem(app.privateKey, 'pkcs1')), alipayPublicKey: bare(platformPublicPem), mode: 'qr' });
    expect(normaliseAlipayPrivateKey(bare(pem(app.privateKey, 'pkcs1'))).keyType).toBe('PKCS1');
    expect(normaliseAlipayPrivateKey(pem(app.privateKey, 'pkcs8')).keyType).toBe('PKCS8');
    const { order, created } = await openOrder(100, qr);
    expect(created.pay.qrCode).toBe(`https://qr.alipay.com/bax0${fake.trades.get(order.orderNo)!.tradeNo}`);
    const r = createAlipayProvider({ gateway: fake.gateway, appId: APP_ID, privateKey: pem(app.privateKey, 'pkcs8'), alipayPublicKey: bare(platformPublicPem) });
    expect((await r.queryOrder({ orderNo: order.orderNo })).status).toBe('pending');
  });

  it('auto mode sends mobile users to wap pay', async () => {
    const auto = createAlipayProvider({ gateway: fake.gateway, appId: APP_ID, privateKey: pem(app.privateKey, 'pkcs8'), alipayPublicKey: platformPublicPem, mode: 'auto' });
    const order: PaymentOrder = { orderNo: 'ALWAP1', subject: 't', amount: { currency: 'CNY', minor: 500 } };
    const { pay } = await auto.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://r', device: 'mobile' });
    const url = new URL(pay.url!);
    expect(url.searchParams.get('method')).toBe('alipay.trade.wap.pay');
    expect(JSON.parse(url.searchParams.get('biz_content')!).product_code).toBe('QUICK_WAP_WAY');
    expect((await fetch(pay.url!)).status).toBe(200);
    expect(fake.trades.get('ALWAP1')!.method).toBe('alipay.trade.wap.pay');
  });

  it('an answer not signed by the platform key is refused', async () => {
    const fooled = createAlipayProvider({
      gateway: fake.gateway, appId: APP_ID, privateKey: pem(app.privateKey, 'pkcs8'), alipayPublicKey: attacker.publicKey.export({ type: 'spki', format: 'pem' }).toString(), mode: 'qr',
    });
    const err = await fooled.createPayment({ orderNo: 'ALX1', subject: 't', amount: { currency: 'CNY', minor: 1 } }, { notifyUrl: receiver.url, returnUrl: 'http://r' }).catch((e) => e);
    expect(err).toBeInstanceOf(PaymentProviderError);
    expect(err.code).toBe('bad_provider_answer');
    expect(String(err.message)).not.toContain('PRIVATE');
  });

  it('the fake refuses requests signed with another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrong = createAlipayProvider({ gateway: fake.gateway, appId: APP_ID, privateKey: pem(other.privateKey, 'pkcs8'), alipayPublicKey: platformPublicPem });
    const { pay } = await wrong.createPayment({ orderNo: 'ALW1', subject: 't', amount: { currency: 'CNY', minor: 1 } }, { notifyUrl: receiver.url, returnUrl: 'http://r' });
    expect((await fetch(pay.url!)).status).toBe(400);
    await expect(wrong.queryOrder({ orderNo: 'AL1' })).rejects.toThrow(/验签出错/);
    expect(fake.trades.has('ALW1')).toBe(false);
    expect(fake.rejections.filter((r) => r.reason === 'isv.invalid-signature').length).toBe(2);
  });

  it('duplicate notify: acknowledged twice, credited once', async () => {
    const { order } = await openOrder(1000);
    const ds = await fake.pay(order.orderNo, { twist: 'duplicate' });
    expect(ds.map((d) => d.acknowledged)).toEqual([true, true]);
    expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false]);
  });

  it('late notify is trusted', async () => {
    const { order } = await openOrder(300);
    expect((await fake.pay(order.orderNo, { twist: 'late', lateMs: 100 }))[0]!.acknowledged).toBe(true);
  });

  it('tampered amount (platform-signed) is refused by the order check and retried', async () => {
    const { order } = await openOrder(7300);
    const [d] = await fake.pay(order.orderNo, { twist: 'tampered-amount', tamperedAmount: '7.30' });
    expect(d!.acknowledged).toBe(false);
    expect(d!.attempts.map((a) => a.body)).toEqual(['fail', 'fail', 'fail', 'fail']);
    expect(seen(order.orderNo)[0]!.refusal).toBe('amount mismatch: paid 730, expected 7300');
  });

  it('wrong app_id and bad signature are refused', async () => {
    const a = await openOrder();
    await fake.pay(a.order.orderNo, { twist: 'wrong-merchant' });
    expect(seen(a.order.orderNo)[0]!.verdict).toMatchObject({ ok: false, merchantOk: false, reason: 'merchant mismatch' });
    const b = await openOrder();
    await fake.pay(b.order.orderNo, { twist: 'bad-signature' });
    expect(seen(b.order.orderNo)[0]!.verdict).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(receiver.credited.has(a.order.orderNo) || receiver.credited.has(b.order.orderNo)).toBe(false);
  });

  it('a notify signed by any other key is refused; garbage is refused without throwing', async () => {
    const { createSign } = await import('node:crypto');
    const f: Record<string, string> = { app_id: APP_ID, out_trade_no: 'AL1', total_amount: '73.00', trade_status: 'TRADE_SUCCESS', trade_no: 'T' };
    const content = Object.keys(f).sort().map((k) => `${k}=${f[k]}`).join('&');
    const forged = { ...f, sign_type: 'RSA2', sign: createSign('RSA-SHA256').update(content).sign(attacker.privateKey, 'base64') };
    expect(await provider.verifyNotify({ method: 'POST', query: '', body: new URLSearchParams(forged).toString(), headers: {} })).toMatchObject({ ok: false, reason: 'bad signature' });
    const genuine = { ...f, sign_type: 'RSA2', sign: createSign('RSA-SHA256').update(content).sign(platform.privateKey, 'base64') };
    expect(await provider.verifyNotify({ method: 'POST', query: '', body: new URLSearchParams(genuine).toString(), headers: {} })).toMatchObject({ ok: true, paid: true });
    for (const body of ['', 'sign=abc', 'sign=%%%&app_id=1', 'sign=' + 'A'.repeat(5000)]) {
      expect((await provider.verifyNotify({ method: 'POST', query: '', body, headers: {} })).ok).toBe(false);
    }
  });

  it('the fake re-sends until it gets exactly "success"', async () => {
    const { order } = await openOrder();
    receiver.wrongAcks = 3;
    const [d] = await fake.pay(order.orderNo);
    expect(d!.attempts.map((a) => a.body)).toEqual(['received', 'received', 'received', 'success']);
  });

  it('query of an unknown trade is not_found; a non-RSA key is refused at setup', async () => {
    expect((await provider.queryOrder({ orderNo: 'NOPE' })).status).toBe('not_found');
    expect(() => createAlipayProvider({ gateway: fake.gateway, appId: APP_ID, privateKey: 'bm90IGEga2V5', alipayPublicKey: platformPublicPem })).toThrow(/not an RSA private key/);
  });
});
