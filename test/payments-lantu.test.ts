// Lantu Pay end to end against a local fake: native QR / H5 / Alipay QR → fake "pays" → signed form
// notify → our verifier in a real receiver → SUCCESS; every bad notify refused; query re-check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLantuProvider, lantuSign, LANTU_NOTIFY_SIGNED, LANTU_PAY_SIGNED } from '../src/wallet/payments/lantu.ts';
import type { PaymentOrder, PaymentProvider } from '../src/wallet/payments/index.ts';
import { startFakeLantu, type FakeLantu } from './fakes/payments/lantu.ts';
import { startNotifyReceiver, type NotifyReceiver } from './fakes/payments/receiver.ts';

describe('Lantu signature', () => {
  const fields = {
    mch_id: '1230000109', out_trade_no: 'LT20260101001', total_fee: '0.01', body: 'topup', timestamp: '1767225600',
    notify_url: 'http://127.0.0.1:3000/api/pay/lantu/notify',
  };
  it('matches the vector from payments.md', () => {
    expect(lantuSign(fields, LANTU_PAY_SIGNED, 'testkey123')).toBe('ADCA5402D0A7CED49D95E6B1FEF06043');
  });
  it('optional fields do not change it', () => {
    const extra = { ...fields, attach: 'x', time_expire: '5m', return_url: 'http://r', sign: 'old' };
    expect(lantuSign(extra, LANTU_PAY_SIGNED, 'testkey123')).toBe('ADCA5402D0A7CED49D95E6B1FEF06043');
  });
});

describe('Lantu end to end', () => {
  let fake: FakeLantu;
  let provider: PaymentProvider;
  let receiver: NotifyReceiver;
  let n = 0;
  const clock = () => 1767225600 + n;

  beforeAll(async () => {
    fake = await startFakeLantu({ mchId: '1230000109', key: 'testkey123', retryDelaysMs: [20, 40, 80] });
    provider = createLantuProvider({ baseUrl: fake.url, mchId: '1230000109', key: 'testkey123', timeExpire: '5m', now: clock });
    receiver = await startNotifyReceiver(provider);
  });
  afterAll(async () => {
    await receiver?.close();
    await fake?.close();
  });

  async function openOrder(minor = 7300, channel: 'wxpay' | 'alipay' = 'wxpay', device: 'pc' | 'mobile' = 'pc') {
    n += 1;
    const order: PaymentOrder = { orderNo: `LT${n}`, subject: 'topup', amount: { currency: 'CNY', minor }, channel };
    receiver.orders.set(order.orderNo, order);
    const created = await provider.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://127.0.0.1:1/r', device });
    return { order, created };
  }
  const seen = (orderNo: string) => receiver.received.filter((r) => r.verdict.fields.out_trade_no === orderNo);

  it('WeChat native QR: pays, verifies, credits once, acknowledges; the query shows paid', async () => {
    const { order, created } = await openOrder();
    const fo = fake.orders.get(order.orderNo)!;
    expect(created.pay).toEqual({ qrCode: `weixin://wxpay/bizpayurl?pr=${fo.orderNo}` });
    expect(fo).toMatchObject({ totalFee: '73.00', body: 'topup', tradeType: 'NATIVE', payStatus: 0 });
    expect((await provider.queryOrder({ orderNo: order.orderNo })).status).toBe('pending');

    const [d] = await fake.pay(order.orderNo);
    expect(d!.attempts).toEqual([{ status: 200, body: 'SUCCESS' }]);
    const [got] = seen(order.orderNo);
    expect(got!.method).toBe('POST');
    expect(got!.verdict).toMatchObject({ ok: true, paid: true, merchantOk: true, orderNo: order.orderNo, tradeNo: fo.orderNo, amount: { currency: 'CNY', minor: 7300 }, reason: null });
    expect(got!.credited).toBe(true);
    expect(await provider.queryOrder({ orderNo: order.orderNo })).toMatchObject({ status: 'paid', tradeNo: fo.orderNo, amount: { currency: 'CNY', minor: 7300 } });
  });

  it('WeChat H5 gives a link; Alipay native gives a QR', async () => {
    const h5 = await openOrder(100, 'wxpay', 'mobile');
    expect(h5.created.pay).toEqual({ url: `${fake.url}/h5/${fake.orders.get(h5.order.orderNo)!.orderNo}` });
    const ali = await openOrder(100, 'alipay');
    expect(ali.created.pay.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\//);
    expect(fake.orders.get(ali.order.orderNo)!.tradeType).toBe('ALIPAY');
  });

  it('duplicate notify: both acknowledged, credited once', async () => {
    const { order } = await openOrder(1000);
    const ds = await fake.pay(order.orderNo, { twist: 'duplicate' });
    expect(ds.map((d) => d.acknowledged)).toEqual([true, true]);
    expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false]);
  });

  it('late notify is still trusted', async () => {
    const { order } = await openOrder(200);
    const [d] = await fake.pay(order.orderNo, { twist: 'late', lateMs: 100 });
    expect(d!.acknowledged).toBe(true);
  });

  it('tampered amount (signed) is refused by the order check and retried by the fake', async () => {
    const { order } = await openOrder(7300);
    const [d] = await fake.pay(order.orderNo, { twist: 'tampered-amount', tamperedAmount: '0.73' });
    expect(d!.acknowledged).toBe(false);
    expect(d!.attempts.map((a) => a.body)).toEqual(['FAIL', 'FAIL', 'FAIL', 'FAIL']);
    expect(seen(order.orderNo)[0]!.refusal).toBe('amount mismatch: paid 73, expected 7300');
    expect(receiver.credited.has(order.orderNo)).toBe(false);
  });

  it('wrong merchant and bad signature are refused', async () => {
    const a = await openOrder();
    await fake.pay(a.order.orderNo, { twist: 'wrong-merchant' });
    expect(seen(a.order.orderNo)[0]!.verdict).toMatchObject({ ok: false, merchantOk: false, reason: 'merchant mismatch' });
    const b = await openOrder();
    await fake.pay(b.order.orderNo, { twist: 'bad-signature' });
    expect(seen(b.order.orderNo)[0]!.verdict).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(receiver.credited.has(a.order.orderNo) || receiver.credited.has(b.order.orderNo)).toBe(false);
  });

  it('the fake re-sends until it gets exactly SUCCESS', async () => {
    const { order } = await openOrder();
    receiver.wrongAcks = 1;
    const [d] = await fake.pay(order.orderNo);
    expect(d!.attempts.map((a) => a.body)).toEqual(['received', 'SUCCESS']);
    expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false]);
  });

  it('unsigned notify extras do not matter, signed ones do', async () => {
    const f: Record<string, string> = { code: '0', timestamp: '1', mch_id: '1230000109', order_no: 'O', out_trade_no: 'LTX', pay_no: 'P', total_fee: '1.00' };
    f.sign = lantuSign(f, LANTU_NOTIFY_SIGNED, 'testkey123');
    const ok = await provider.verifyNotify({ method: 'POST', query: '', body: new URLSearchParams({ ...f, attach: 'changed', openid: 'x' }).toString(), headers: {} });
    expect(ok).toMatchObject({ ok: true, paid: true, amount: { currency: 'CNY', minor: 100 } });
    const unpaid: Record<string, string> = { ...f, code: '1' };
    unpaid.sign = lantuSign(unpaid, LANTU_NOTIFY_SIGNED, 'testkey123');
    expect(await provider.verifyNotify({ method: 'POST', query: '', body: new URLSearchParams(unpaid).toString(), headers: {} })).toMatchObject({ ok: true, paid: false });
    const missing = { ...f };
    delete (missing as Record<string, string>).pay_no;
    expect(await provider.verifyNotify({ method: 'POST', query: '', body: new URLSearchParams(missing).toString(), headers: {} })).toMatchObject({ ok: false, reason: 'missing signed field' });
    expect((await provider.verifyNotify({ method: 'POST', query: '', body: '%%%', headers: {} })).ok).toBe(false);
  });

  it('the fake refuses a wrongly signed request; query of an unknown order is not_found', async () => {
    const wrong = createLantuProvider({ baseUrl: fake.url, mchId: '1230000109', key: 'nope' });
    await expect(wrong.createPayment({ orderNo: 'LTW', subject: 't', amount: { currency: 'CNY', minor: 1 } }, { notifyUrl: receiver.url, returnUrl: 'http://r' })).rejects.toThrow(/签名错误/);
    expect(fake.orders.has('LTW')).toBe(false);
    expect((await provider.queryOrder({ orderNo: 'NOPE' })).status).toBe('not_found');
    expect(fake.rejections.map((r) => r.reason)).toContain('签名错误');
  });

  it('paths are configurable', async () => {
    const moved = createLantuProvider({ baseUrl: fake.url, mchId: '1230000109', key: 'testkey123', paths: { wxpayNative: '/api/alipay/native' } });
    const order: PaymentOrder = { orderNo: 'LTP1', subject: 't', amount: { currency: 'CNY', minor: 1 }, channel: 'wxpay' };
    await moved.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://r' });
    expect(fake.orders.get('LTP1')!.tradeType).toBe('ALIPAY');
  });
});
