// Top-ups end to end, per provider: a real gateway, the provider's local fake (a real HTTP server
// speaking its wire protocol), the notify arriving through the real route. For each: success,
// duplicate notify, tampered amount, wrong merchant, bad signature, notify after expiry, query-based
// re-check, concurrent duplicate notifies. The ledger invariant is checked after every test.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/entries.ts';
import { expireOrder } from '../src/wallet/order-expiry.ts';
import type { ApiClient } from './helpers/api.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startFakeAlipay } from './fakes/payments/alipay.ts';
import { startFakeEpay } from './fakes/payments/epay.ts';
import { startFakeLantu } from './fakes/payments/lantu.ts';
import type { Delivery, PayOptions } from './fakes/payments/shared.ts';
import { startFakeStripe } from './fakes/payments/stripe.ts';

interface Fake {
  config: Record<string, unknown>;
  pay(orderNo: string, opts?: PayOptions): Promise<Delivery[]>;
  /** What the browser does with the pay instruction (opening a link creates the order at some providers). */
  open(pay: any): Promise<void>;
  close(): Promise<void>;
  ack: (d: Delivery['attempts'][number]) => boolean;
  /** The amount the user pays at this provider for $10 (minor units) and how a tampered one is written. */
  tampered: string;
  /** Stripe cannot tell a wrong merchant from a bad signature: another account signs with another secret. */
}

const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });

const openLink = async (pay: any) => {
  expect(pay.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  expect((await fetch(pay.url)).status).toBe(200);
};
const textAck = (word: string) => (a: { status: number; body: string }) => a.status === 200 && a.body === word;

const PROVIDERS: Record<string, (gw: TestGateway) => Promise<Fake>> = {
  epay: async () => {
    const fake = await startFakeEpay({ pid: '1001', key: 'epay-secret-key', retryDelaysMs: [10, 20] });
    return { config: { baseUrl: fake.url, pid: '1001', key: 'epay-secret-key' }, pay: fake.pay, open: openLink, close: fake.close, ack: textAck('success'), tampered: '0.01' };
  },
  lantu: async () => {
    const fake = await startFakeLantu({ mchId: '1230000109', key: 'lantu-secret-key', retryDelaysMs: [10, 20] });
    return {
      config: { baseUrl: fake.url, mchId: '1230000109', key: 'lantu-secret-key' },
      pay: fake.pay,
      open: async (pay) => expect(pay.qrCode ?? pay.url).toBeTruthy(),
      close: fake.close,
      ack: textAck('SUCCESS'),
      tampered: '0.01',
    };
  },
  alipay: async () => {
    const fake = await startFakeAlipay({ appId: '2021000000000001', appPublicKey: app.publicKey, platformPrivateKey: platform.privateKey, retryDelaysMs: [10, 20] });
    return {
      config: {
        gateway: fake.gateway,
        appId: '2021000000000001',
        privateKey: app.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        alipayPublicKey: platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      pay: fake.pay,
      open: openLink,
      close: fake.close,
      ack: textAck('success'),
      tampered: '0.01',
    };
  },
  stripe: async (gw) => {
    const fake = await startFakeStripe({ secretKey: 'sk_test_wallet', webhookSecret: 'whsec_wallet', webhookUrl: `${gw.url}/api/payment/notify/stripe`, retryDelaysMs: [10, 20] });
    return {
      config: { secretKey: 'sk_test_wallet', webhookSecret: 'whsec_wallet', apiBase: fake.url },
      pay: fake.pay,
      // The checkout page is Stripe's (the fake serves only the API).
      open: async (pay) => expect(pay.url).toMatch(new RegExp(`^${fake.url}/c/pay/cs_test_`)),
      close: fake.close,
      ack: (a) => a.status === 200,
      tampered: '1',
    };
  },
};

// $10 at 7.3 CNY per USD: ¥73.00; Stripe charges USD cents.
const PAID_MINOR: Record<string, number> = { epay: 7300, lantu: 7300, alipay: 7300, stripe: 1000 };

describe.each(Object.keys(PROVIDERS))('top-ups through %s', (id) => {
  let gw: TestGateway;
  let fake: Fake;
  let user: ApiClient;
  let userId: number;

  beforeAll(async () => {
    gw = await startGateway();
    fake = await PROVIDERS[id]!(gw);
    const s = await gw.admin.patch('/api/admin/settings', { publicBaseUrl: gw.url, cnyPerUsd: '7.3' });
    expect(s.status).toBe(200);
    const put = await gw.admin.put(`/api/admin/payment-providers/${id}`, { enabled: true, ...fake.config });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    ({ client: user, userId } = await createUserWithKey(gw));
  });
  afterAll(async () => {
    await fake?.close();
    await gw?.close();
  });
  afterEach(async () => {
    expect((await checkLedger(gw.gateway.db)).mismatches).toEqual([]);
  });

  const balance = async () => (await user.get('/api/wallet')).body.balance.quota as number;
  const order = async (orderNo: string) => (await user.get(`/api/wallet/orders/${orderNo}`)).body;
  const audit = (orderNo: string) => gw.gateway.db.all<{ verdict: string; credited: number }>('SELECT verdict, credited FROM payment_callbacks WHERE order_no = ? ORDER BY id', [orderNo]);

  async function topup(amount = '10') {
    const res = await user.post('/api/wallet/topup', { amount, method: id, ...(id === 'lantu' ? { channel: 'wxpay' } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.status).toBe('pending');
    await fake.open(res.body.pay);
    return res.body;
  }

  it('success: the notify is acknowledged only after the order is paid and credited once', async () => {
    const before = await balance();
    const o = await topup();
    expect(o).toMatchObject({ amount: { quota: 5_000_000 }, bonus: { quota: 0 }, payCurrency: id === 'stripe' ? 'USD' : 'CNY' });
    expect(o.payAmount).toBe(id === 'stripe' ? '10.00' : '73.00');
    const [d] = await fake.pay(o.orderNo);
    expect(d!.acknowledged).toBe(true);
    expect(d!.attempts).toHaveLength(1);
    expect(fake.ack(d!.attempts[0]!)).toBe(true);
    expect(await balance()).toBe(before + 5_000_000);
    const after = await order(o.orderNo);
    expect(after).toMatchObject({ status: 'paid', paidAfterExpiry: false });
    expect(after.paidAt).not.toBeNull();
    expect(after.tradeNo).toBeTruthy();
    const entry = await gw.gateway.db.get('SELECT kind, amount FROM ledger_entries WHERE reference = ?', [`topup:${o.orderNo}`]);
    expect(entry).toMatchObject({ kind: 'topup' });
    expect(Number(entry!.amount)).toBe(5_000_000);
    expect(await audit(o.orderNo)).toEqual([{ verdict: 'credited', credited: 1 }]);
  });

  it('duplicate notify: both acknowledged, credited once', async () => {
    const before = await balance();
    const o = await topup();
    const deliveries = await fake.pay(o.orderNo, { twist: 'duplicate' });
    expect(deliveries.map((d) => d.acknowledged)).toEqual([true, true]);
    expect(await balance()).toBe(before + 5_000_000);
    expect((await audit(o.orderNo)).map((a) => a.credited)).toEqual([1, 0]);
    expect((await audit(o.orderNo))[1]!.verdict).toMatch(/^replay/);
  });

  it('concurrent duplicate notifies credit once', async () => {
    const before = await balance();
    const o = await topup();
    const all = await Promise.all(Array.from({ length: 12 }, () => fake.pay(o.orderNo)));
    expect(all.flat().every((d) => d.acknowledged)).toBe(true);
    expect(await balance()).toBe(before + 5_000_000);
    const rows = await audit(o.orderNo);
    expect(rows.filter((r) => r.credited === 1)).toHaveLength(1);
    expect(rows).toHaveLength(12);
  });

  for (const twist of ['tampered-amount', 'wrong-merchant', 'bad-signature'] as const) {
    it(`${twist}: refused (the provider retries), nothing credited, order still pending`, async () => {
      const before = await balance();
      const o = await topup();
      const [d] = await fake.pay(o.orderNo, { twist, tamperedAmount: fake.tampered });
      expect(d!.acknowledged).toBe(false);
      expect(d!.attempts).toHaveLength(3); // refused every time
      expect(d!.attempts.every((a) => !fake.ack(a))).toBe(true);
      expect(await balance()).toBe(before);
      expect((await order(o.orderNo)).status).toBe('pending');
      expect(await gw.gateway.db.get('SELECT id FROM ledger_entries WHERE reference = ?', [`topup:${o.orderNo}`])).toBeUndefined();
      const rows = await gw.gateway.db.all<{ verdict: string }>(`SELECT verdict FROM payment_callbacks WHERE provider = ? AND created_at >= ? ORDER BY id`, [id, Date.parse(o.createdAt)]);
      expect(rows.length).toBe(3);
      expect(rows.every((r) => r.verdict.startsWith('refused'))).toBe(true);
      if (twist === 'tampered-amount') expect(rows[0]!.verdict).toMatch(/amount mismatch/);
    });
  }

  it('notify after expiry: the order expired, the late valid payment is still credited and flagged', async () => {
    const before = await balance();
    const o = await topup();
    expect(await expireOrder(gw.gateway.db, o.orderNo, Date.parse(o.expiresAt))).toBe(true);
    expect((await order(o.orderNo)).status).toBe('expired');
    const [d] = await fake.pay(o.orderNo, { twist: 'late', lateMs: 10 });
    expect(d!.acknowledged).toBe(true);
    expect(await balance()).toBe(before + 5_000_000);
    expect(await order(o.orderNo)).toMatchObject({ status: 'paid', paidAfterExpiry: true });
    expect((await audit(o.orderNo))[0]!.verdict).toBe('credited (paid after expiry)');
  });

  it('notify before expiry: not flagged; expiry leaves a paid order alone', async () => {
    const o = await topup();
    await fake.pay(o.orderNo);
    expect(await expireOrder(gw.gateway.db, o.orderNo, Date.parse(o.expiresAt) + 1)).toBe(false);
    expect(await order(o.orderNo)).toMatchObject({ status: 'paid', paidAfterExpiry: false });
  });

  it('admin re-check: pending at the provider → nothing; paid (notify lost) → credited once; again → replay', async () => {
    const before = await balance();
    const o = await topup();
    const pending = await gw.admin.post(`/api/admin/orders/${o.orderNo}/recheck`);
    expect(pending.status, JSON.stringify(pending.body)).toBe(200);
    expect(pending.body).toMatchObject({ credited: false, order: { status: 'pending' } });
    expect(pending.body.provider.status).not.toBe('paid');
    // The provider takes the money but its notify never gets through (here: a corrupted signature).
    const [d] = await fake.pay(o.orderNo, { twist: 'bad-signature', tamperedAmount: fake.tampered });
    expect(d!.acknowledged).toBe(false);
    expect(await balance()).toBe(before);
    const paid = await gw.admin.post(`/api/admin/orders/${o.orderNo}/recheck`);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ credited: true, provider: { status: 'paid', amount: { minor: PAID_MINOR[id] } }, order: { status: 'paid', userId } });
    expect(await balance()).toBe(before + 5_000_000);
    const again = await gw.admin.post(`/api/admin/orders/${o.orderNo}/recheck`);
    expect(again.body.credited).toBe(false);
    expect(await balance()).toBe(before + 5_000_000);
  });
});
