// EPay end to end against a local fake gateway: create (link, form, mapi) → fake "pays" → the signed
// notify reaches a real receiver running our verifier → acknowledgement; plus every bad notify.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEpayProvider, epaySign, epaySignString } from '../src/wallet/payments/epay.ts';
import type { PaymentOrder, PaymentProvider } from '../src/wallet/payments/index.ts';
import { startFakeEpay, type FakeEpay } from './fakes/payments/epay.ts';
import { startNotifyReceiver, type NotifyReceiver } from './fakes/payments/receiver.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('EPay signature', () => {
  it('matches both vectors from payments.md', () => {
    expect(epaySign({ device: 'devicev', money: 'moneyv' }, '1234567')).toBe('3854cc9f022e0fb821bd2e002260245d');
    const fields = {
      pid: '1001', type: 'alipay', out_trade_no: 'USR1NOabc1700000000', notify_url: 'http://127.0.0.1:3000/api/user/epay/notify',
      return_url: 'http://127.0.0.1:3000/console/log', name: 'TUC10', money: '73.00', device: 'pc', sign: 'x', sign_type: 'MD5', param: '',
    };
    expect(epaySignString(fields)).toBe(
      'device=pc&money=73.00&name=TUC10&notify_url=http://127.0.0.1:3000/api/user/epay/notify&out_trade_no=USR1NOabc1700000000&pid=1001&return_url=http://127.0.0.1:3000/console/log&type=alipay',
    );
    expect(epaySign(fields, 'testkey123')).toBe('8f67b4185377d3769d18a1fede4a558f');
  });

  it('ampersand-key style appends &key=', () => {
    expect(epaySign({ device: 'devicev', money: 'moneyv' }, '1234567', 'ampersand-key')).toBe(md5('device=devicev&money=moneyv&key=1234567'));
  });
});

function flow(signStyle: 'append' | 'ampersand-key', notifyMethod: 'GET' | 'POST') {
  describe(`EPay end to end (sign ${signStyle}, notify ${notifyMethod})`, () => {
    let fake: FakeEpay;
    let provider: PaymentProvider;
    let receiver: NotifyReceiver;
    let n = 0;

    beforeAll(async () => {
      fake = await startFakeEpay({ pid: '1001', key: 'testkey123', signStyle, notifyMethod, retryDelaysMs: [20, 40, 80] });
      provider = createEpayProvider({ baseUrl: fake.url, pid: '1001', key: 'testkey123', signStyle });
      receiver = await startNotifyReceiver(provider);
    });
    afterAll(async () => {
      await receiver?.close();
      await fake?.close();
    });

    /** A stored order whose payment page the "browser" has opened at the fake. */
    async function openOrder(minor = 7300, p: PaymentProvider = provider): Promise<PaymentOrder> {
      n += 1;
      const order: PaymentOrder = { orderNo: `EP${signStyle[0]}${notifyMethod}${n}`, subject: 'MoleAPI top-up', amount: { currency: 'CNY', minor }, channel: 'alipay' };
      receiver.orders.set(order.orderNo, order);
      const created = await p.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://127.0.0.1:1/console/wallet' });
      const res = await fetch(created.pay.url!);
      expect(res.status).toBe(200);
      return order;
    }

    const seen = (orderNo: string) => receiver.received.filter((r) => r.verdict.fields.out_trade_no === orderNo);

    it('pays: the fake sends a signed notify, our verifier trusts it, credits once, and the fake gets the ack', async () => {
      const order = await openOrder();
      expect(fake.orders.get(order.orderNo)).toMatchObject({ money: '73.00', status: 0, type: 'alipay', name: 'MoleAPI top-up' });
      expect((await provider.queryOrder({ orderNo: order.orderNo })).status).toBe('pending');

      const [delivery] = await fake.pay(order.orderNo);
      expect(delivery!.acknowledged).toBe(true);
      expect(delivery!.attempts).toEqual([{ status: 200, body: 'success' }]);
      const [got] = seen(order.orderNo);
      expect(got!.method).toBe(notifyMethod);
      expect(got!.refusal).toBeNull();
      expect(got!.credited).toBe(true);
      expect(got!.verdict).toMatchObject({
        ok: true, paid: true, merchantOk: true, orderNo: order.orderNo, tradeNo: fake.orders.get(order.orderNo)!.tradeNo, amount: { currency: 'CNY', minor: 7300 }, reason: null,
      });

      const q = await provider.queryOrder({ orderNo: order.orderNo });
      expect(q).toMatchObject({ status: 'paid', orderNo: order.orderNo, tradeNo: fake.orders.get(order.orderNo)!.tradeNo, amount: { currency: 'CNY', minor: 7300 } });
    });

    it('a duplicate notify is acknowledged and credits nothing', async () => {
      const order = await openOrder(1000);
      const deliveries = await fake.pay(order.orderNo, { twist: 'duplicate' });
      expect(deliveries.map((d) => d.acknowledged)).toEqual([true, true]);
      expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false]);
      expect(receiver.credited.get(order.orderNo)).toBe(2); // trusted twice, credited once
    });

    it('a late notify is still verified and acknowledged', async () => {
      const order = await openOrder(500);
      const [d] = await fake.pay(order.orderNo, { twist: 'late', lateMs: 100 });
      expect(d!.acknowledged).toBe(true);
      expect(seen(order.orderNo)[0]!.credited).toBe(true);
    });

    it('tampered amount (correctly signed) is refused by the order check; the fake keeps retrying', async () => {
      const order = await openOrder(7300);
      const [d] = await fake.pay(order.orderNo, { twist: 'tampered-amount', tamperedAmount: '0.01' });
      expect(d!.acknowledged).toBe(false);
      expect(d!.attempts).toHaveLength(4);
      expect(d!.attempts.every((a) => a.status === 400 && a.body === 'fail')).toBe(true);
      const got = seen(order.orderNo);
      expect(got[0]!.verdict.ok).toBe(true); // the signature itself is fine…
      expect(got[0]!.verdict.amount).toEqual({ currency: 'CNY', minor: 1 });
      expect(got[0]!.refusal).toBe('amount mismatch: paid 1, expected 7300'); // …the amount is not
      expect(got.some((r) => r.credited)).toBe(false);
    });

    it('wrong merchant is refused', async () => {
      const order = await openOrder();
      const [d] = await fake.pay(order.orderNo, { twist: 'wrong-merchant' });
      expect(d!.acknowledged).toBe(false);
      const got = seen(order.orderNo)[0]!;
      expect(got.verdict).toMatchObject({ ok: false, merchantOk: false, reason: 'merchant mismatch' });
      expect(receiver.credited.has(order.orderNo)).toBe(false);
    });

    it('bad signature is refused', async () => {
      const order = await openOrder();
      const [d] = await fake.pay(order.orderNo, { twist: 'bad-signature' });
      expect(d!.acknowledged).toBe(false);
      expect(seen(order.orderNo)[0]!.verdict).toMatchObject({ ok: false, reason: 'bad signature' });
      expect(receiver.credited.has(order.orderNo)).toBe(false);
    });

    it('the fake re-sends until it gets exactly "success"', async () => {
      const order = await openOrder();
      receiver.wrongAcks = 2;
      const [d] = await fake.pay(order.orderNo);
      expect(d!.acknowledged).toBe(true);
      expect(d!.attempts.map((a) => a.body)).toEqual(['received', 'received', 'success']);
      expect(seen(order.orderNo).map((r) => r.credited)).toEqual([true, false, false]);
    });

    it('the fake refuses a payment link with a bad signature or a changed amount', async () => {
      const order: PaymentOrder = { orderNo: `EPbad${signStyle}${notifyMethod}`, subject: 'x', amount: { currency: 'CNY', minor: 7300 } };
      const created = await provider.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://127.0.0.1:1/r' });
      const tampered = created.pay.url!.replace('money=73.00', 'money=0.01');
      expect(tampered).not.toBe(created.pay.url);
      expect((await fetch(tampered)).status).toBe(400);
      const wrongKey = createEpayProvider({ baseUrl: fake.url, pid: '1001', key: 'otherkey', signStyle });
      expect((await fetch((await wrongKey.createPayment(order, { notifyUrl: receiver.url, returnUrl: 'http://127.0.0.1:1/r' })).pay.url!)).status).toBe(400);
      expect(fake.orders.has(order.orderNo)).toBe(false);
      expect(fake.rejections.filter((r) => r.reason === 'bad sign').length).toBeGreaterThanOrEqual(2);
    });
  });
}

flow('append', 'GET');
flow('ampersand-key', 'POST');

describe('EPay form and mapi modes, query and bad input', () => {
  let fake: FakeEpay;
  beforeAll(async () => {
    fake = await startFakeEpay({ pid: '2002', key: 'k2', retryDelaysMs: [] });
  });
  afterAll(async () => fake?.close());
  const ctx = { notifyUrl: 'http://127.0.0.1:1/api/payment/notify/epay', returnUrl: 'http://127.0.0.1:1/r', clientIp: '203.0.113.9' };

  it('form mode gives an auto-post form the fake accepts', async () => {
    const p = createEpayProvider({ baseUrl: `${fake.url}/`, pid: '2002', key: 'k2', mode: 'form' });
    const { pay } = await p.createPayment({ orderNo: 'EPF1', subject: 'top-up', amount: { currency: 'CNY', minor: 14600 }, channel: 'wxpay' }, { ...ctx, device: 'mobile' });
    expect(pay.form).toMatchObject({ action: `${fake.url}/submit.php`, method: 'POST' });
    expect(pay.form!.fields).toMatchObject({ pid: '2002', type: 'wxpay', money: '146.00', device: 'mobile', sign_type: 'MD5' });
    const res = await fetch(pay.form!.action, { method: 'POST', body: new URLSearchParams(pay.form!.fields) });
    expect(res.status).toBe(200);
    expect(fake.orders.get('EPF1')!.money).toBe('146.00');
  });

  it('mapi mode answers a pay URL (alipay) or a QR code (wxpay)', async () => {
    const p = createEpayProvider({ baseUrl: fake.url, pid: '2002', key: 'k2', mode: 'mapi' });
    const a = await p.createPayment({ orderNo: 'EPM1', subject: 't', amount: { currency: 'CNY', minor: 100 }, channel: 'alipay' }, ctx);
    expect(a.pay.url).toBe(`${fake.url}/pay/${fake.orders.get('EPM1')!.tradeNo}`);
    expect(a.tradeNo).toBe(fake.orders.get('EPM1')!.tradeNo);
    const w = await p.createPayment({ orderNo: 'EPM2', subject: 't', amount: { currency: 'CNY', minor: 100 }, channel: 'wxpay' }, ctx);
    expect(w.pay.qrCode).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    const bad = createEpayProvider({ baseUrl: fake.url, pid: '2002', key: 'wrong', mode: 'mapi' });
    await expect(bad.createPayment({ orderNo: 'EPM3', subject: 't', amount: { currency: 'CNY', minor: 100 } }, ctx)).rejects.toThrow(/mapi refused: bad sign/);
  });

  it('query: unknown order is not_found; a wrong key is refused by the fake', async () => {
    const p = createEpayProvider({ baseUrl: fake.url, pid: '2002', key: 'k2' });
    expect((await p.queryOrder({ orderNo: 'NOPE' })).status).toBe('not_found');
    const wrong = createEpayProvider({ baseUrl: fake.url, pid: '2002', key: 'nope' });
    expect((await wrong.queryOrder({ orderNo: 'EPM1' })).status).toBe('not_found');
    expect(fake.rejections.some((r) => r.path === '/api.php')).toBe(true);
  });

  it('garbage callbacks are rejected without throwing, and non-CNY orders are refused', async () => {
    const p = createEpayProvider({ baseUrl: fake.url, pid: '2002', key: 'k2' });
    for (const query of ['', 'sign=', 'a=%zz&sign=1', 'money=1e3&sign=00', '&&&=']) {
      const v = await p.verifyNotify({ method: 'GET', query, body: '', headers: {} });
      expect(v.ok).toBe(false);
    }
    // Correctly signed but malformed money is not trusted.
    const f: Record<string, string> = { pid: '2002', out_trade_no: 'X', money: '1e3', trade_status: 'TRADE_SUCCESS', trade_no: 'T' };
    f.sign = epaySign(f, 'k2');
    expect(await p.verifyNotify({ method: 'GET', query: new URLSearchParams(f).toString(), body: '', headers: {} })).toMatchObject({ ok: false, reason: 'malformed money' });
    await expect(p.createPayment({ orderNo: 'U1', subject: 't', amount: { currency: 'USD', minor: 100 } }, ctx)).rejects.toThrow(/CNY only/);
    expect(() => createEpayProvider({ baseUrl: fake.url, pid: '2002', key: '' })).toThrow(/key is missing/);
    for (const baseUrl of ['ftp://pay.example', 'not a url', 'https://u:p@pay.example', 'https://pay.example/?x=1']) {
      expect(() => createEpayProvider({ baseUrl, pid: '2002', key: 'k2' })).toThrow(/baseUrl must be an http\(s\) URL/);
    }
  });

  it("the fake's test-only HTTP pay action sends the notify like pay() does", async () => {
    const p = createEpayProvider({ baseUrl: fake.url, pid: '2002', key: 'k2' });
    const receiver = await startNotifyReceiver(p);
    try {
      const order: PaymentOrder = { orderNo: 'EPH1', subject: 't', amount: { currency: 'CNY', minor: 990 } };
      receiver.orders.set(order.orderNo, order);
      expect((await fetch((await p.createPayment(order, { ...ctx, notifyUrl: receiver.url })).pay.url!)).status).toBe(200);
      const res = await fetch(`${fake.url}/_test/pay`, { method: 'POST', body: JSON.stringify({ orderNo: 'EPH1', twist: 'duplicate' }) });
      const { deliveries } = (await res.json()) as { deliveries: { acknowledged: boolean }[] };
      expect(deliveries.map((d) => d.acknowledged)).toEqual([true, true]);
      expect(receiver.received.map((r) => [r.verdict.amount?.minor, r.credited])).toEqual([[990, true], [990, false]]);
    } finally {
      await receiver.close();
    }
  });
});
