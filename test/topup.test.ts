// Top-up settings, options, bad input, the sandbox, bank transfers, refunds, provider settings (secrets
// sealed and write-only), order visibility and the admin order list. Ledger invariant after each test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { managementApp } from '../src/http/app.ts';
import { checkLedger } from '../src/ledger/entries.ts';
import { ApiClient } from './helpers/api.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';

describe('top-ups', () => {
  let gw: TestGateway;
  let user: ApiClient;
  let userId: number;

  beforeAll(async () => {
    gw = await startGateway();
    ({ client: user, userId } = await createUserWithKey(gw));
  });
  afterAll(async () => {
    await gw?.close();
  });
  afterEach(async () => {
    expect((await checkLedger(gw.gateway.db)).mismatches).toEqual([]);
  });

  const balance = async (c = user) => (await c.get('/api/wallet')).body.balance.quota as number;
  const orderCount = async () => Number((await gw.gateway.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM payment_orders'))!.n);

  it('settings: defaults, validation naming the field, and a change the options show', async () => {
    const s = await gw.admin.get('/api/admin/settings');
    expect(s.body).toMatchObject({ publicBaseUrl: '', minTopupUsd: '1', maxTopupUsd: '10000', cnyPerUsd: '7.2', orderExpiryMinutes: 30 });
    expect(s.body.topupTiers.map((t: any) => t.usd)).toEqual(['10', '20', '50', '100', '200', '500']);
    expect(s.body.topupTiers[3]).toEqual({ usd: '100', bonusQuota: 2_500_000 });

    for (const [patch, field] of [
      [{ cnyPerUsd: 7.2 }, 'cnyPerUsd'],
      [{ cnyPerUsd: '0' }, 'cnyPerUsd'],
      [{ minTopupUsd: '1.001' }, 'minTopupUsd'],
      [{ topupTiers: [{ usd: '10', bonusQuota: 0 }, { usd: '10.00', bonusQuota: 1 }] }, 'topupTiers'],
      [{ publicBaseUrl: 'https://pay.example.com/' }, 'publicBaseUrl'],
      [{ orderExpiryMinutes: 0 }, 'orderExpiryMinutes'],
      [{ minTopupUsd: '20000' }, 'minTopupUsd'], // above maxTopupUsd
    ] as const) {
      const res = await gw.admin.patch('/api/admin/settings', patch);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(res.body.error.issues[0].path[0]).toBe(field);
    }

    const ok = await gw.admin.patch('/api/admin/settings', { cnyPerUsd: '7.25', topupTiers: [{ usd: '10', bonusQuota: 0 }, { usd: '100', bonusQuota: 5_000_000 }], minTopupUsd: '2', maxTopupUsd: '1000' });
    expect(ok.status).toBe(200);
    await gw.admin.put('/api/admin/payment-providers/sandbox', { enabled: true });
    const opts = await user.get('/api/wallet/topup/options');
    expect(opts.status).toBe(200);
    expect(opts.body).toMatchObject({ minTopupUsd: '2', maxTopupUsd: '1000', cnyPerUsd: '7.25', orderExpiryMinutes: 30, invoiceDelayDays: 7 });
    expect(opts.body.tiers).toEqual([
      { usd: '10', amount: { quota: 5_000_000, usd: '10.000000' }, bonus: { quota: 0, usd: '0.000000' } },
      { usd: '100', amount: { quota: 50_000_000, usd: '100.000000' }, bonus: { quota: 5_000_000, usd: '10.000000' } },
    ]);
    expect(opts.body.methods).toEqual([{ method: 'sandbox', currency: 'CNY', channels: [], sandbox: true }]);
  });

  it('bad amounts and methods: 400 naming the field, and no order is created', async () => {
    const before = await orderCount();
    for (const [body, field] of [
      [{ amount: '10.001', method: 'sandbox' }, 'amount'],
      [{ amount: 10, method: 'sandbox' }, 'amount'],
      [{ amount: '-5', method: 'sandbox' }, 'amount'],
      [{ amount: '1e3', method: 'sandbox' }, 'amount'],
      [{ amount: '', method: 'sandbox' }, 'amount'],
      [{ amount: '1.99', method: 'sandbox' }, 'amount'], // below the minimum ($2)
      [{ amount: '1000.01', method: 'sandbox' }, 'amount'], // above the maximum ($1000)
      [{ amount: '10', method: 'bitcoin' }, 'method'],
      [{ amount: '10', method: 'epay' }, 'method'], // not enabled
      [{ amount: '10', method: 'sandbox', channel: 'wxpay' }, 'channel'],
      [{ amount: '10' }, 'method'],
    ] as const) {
      const res = await user.post('/api/wallet/topup', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.issues.map((i: any) => i.path[0]), JSON.stringify(res.body)).toContain(field);
    }
    expect(await orderCount()).toBe(before);
  });

  it('sandbox: completes at once through the credit transaction, with the tier bonus as its own entry', async () => {
    const before = await balance();
    const res = await user.post('/api/wallet/topup', { amount: '150.50', method: 'sandbox' });
    expect(res.status).toBe(201);
    // $150.50 gets the $100 tier's bonus; ¥ = 150.50 × 7.25 = 1091.125 → 1091.13 (half up).
    expect(res.body).toMatchObject({ status: 'paid', sandbox: true, usd: '150.50', amount: { quota: 75_250_000 }, bonus: { quota: 5_000_000 }, payAmount: '1091.13', payCurrency: 'CNY', rate: '7.25' });
    expect(await balance()).toBe(before + 75_250_000 + 5_000_000);
    const entries = await gw.gateway.db.all('SELECT kind, amount, reference FROM ledger_entries WHERE reference LIKE ? ORDER BY id', [`topup:${res.body.orderNo}%`]);
    expect(entries.map((e) => [e.kind, Number(e.amount), e.reference])).toEqual([
      ['topup', 75_250_000, `topup:${res.body.orderNo}`],
      ['topup', 5_000_000, `topup:${res.body.orderNo}:bonus`],
    ]);
    // A forged "sandbox" callback is never trusted.
    const forged = await fetch(`${gw.url}/api/payment/notify/sandbox?out_trade_no=${res.body.orderNo}`);
    expect(forged.status).toBe(404);
  });

  it('orders: listed for their owner only; another user gets 404', async () => {
    const mine = await user.get('/api/wallet/orders?pageSize=5');
    expect(mine.status).toBe(200);
    expect(mine.body.total).toBeGreaterThanOrEqual(1);
    const orderNo = mine.body.items[0].orderNo;
    expect((await user.get(`/api/wallet/orders/${orderNo}`)).status).toBe(200);
    const { client: other } = await createUserWithKey(gw);
    expect((await other.get(`/api/wallet/orders/${orderNo}`)).status).toBe(404);
    expect((await other.get('/api/wallet/orders')).body.total).toBe(0);
    expect((await other.get('/api/wallet/orders/bad%20no')).status).toBe(400);
  });

  it('bank transfer: reference to write on the transfer; an admin confirms (who and when); twice → 409', async () => {
    const cfg = await gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'Bank of Moles', accountName: 'MoleAPI Ltd', accountNo: '6222 0000 1111' });
    expect(cfg.status).toBe(200);
    expect(cfg.body.notifyUrl).toBeNull();
    const before = await balance();
    const res = await user.post('/api/wallet/topup', { amount: '20', method: 'transfer' });
    expect(res.status).toBe(201);
    expect(res.body.pay.transfer).toMatchObject({ bankName: 'Bank of Moles', accountNo: '6222 0000 1111', amount: '145.00', currency: 'CNY' });
    expect(res.body.pay.transfer.reference).toMatch(/^MOLE-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(await balance()).toBe(before);
    // A transfer cannot be "re-checked" with a provider.
    expect((await gw.admin.post(`/api/admin/orders/${res.body.orderNo}/recheck`)).status).toBe(409);

    const confirm = await gw.admin.post(`/api/admin/orders/${res.body.orderNo}/confirm`, { note: 'seen on statement 11-27' });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
    expect(confirm.body).toMatchObject({ status: 'paid', confirmedBy: 'admin', userId });
    expect(Date.parse(confirm.body.paidAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(await balance()).toBe(before + 10_000_000);
    const again = await gw.admin.post(`/api/admin/orders/${res.body.orderNo}/confirm`, {});
    expect(again.status).toBe(409);
    expect(await balance()).toBe(before + 10_000_000);
    const audit = await gw.gateway.db.all('SELECT source, verdict, credited FROM payment_callbacks WHERE order_no = ? ORDER BY id', [res.body.orderNo]);
    expect(audit.map((a) => [a.source, a.verdict, Number(a.credited)])).toEqual([['confirm', 'confirmed by admin', 1]]);
    // A sandbox order is not a transfer.
    const sb = await user.post('/api/wallet/topup', { amount: '2', method: 'sandbox' });
    expect((await gw.admin.post(`/api/admin/orders/${sb.body.orderNo}/confirm`, {})).status).toBe(409);
  });

  it('refund as an adjustment: paid → refunded, amount and bonus debited even below zero; only once', async () => {
    const { client: spender, userId: spenderId } = await createUserWithKey(gw);
    const o = await spender.post('/api/wallet/topup', { amount: '100', method: 'sandbox' });
    expect(o.body.status).toBe('paid');
    const start = await balance(spender);
    // The user spends most of it (here: an admin debit standing in for usage).
    expect((await gw.admin.post(`/api/admin/users/${spenderId}/adjust`, { quota: -(start - 1_000_000), reason: 'spent' })).status).toBe(201);
    expect((await gw.admin.post(`/api/admin/orders/${o.body.orderNo}/refund`, {})).status).toBe(400); // reason required
    const refund = await gw.admin.post(`/api/admin/orders/${o.body.orderNo}/refund`, { reason: 'customer asked' });
    expect(refund.status, JSON.stringify(refund.body)).toBe(200);
    expect(refund.body.debited.quota).toBe(50_000_000 + 5_000_000);
    expect(refund.body.order).toMatchObject({ status: 'refunded', refundedBy: 'admin', refundReason: 'customer asked' });
    expect(await balance(spender)).toBe(1_000_000 - 55_000_000);
    const entry = await gw.gateway.db.get('SELECT kind, amount, note FROM ledger_entries WHERE reference = ?', [`refund:${o.body.orderNo}`]);
    expect(entry).toMatchObject({ kind: 'adjustment' });
    expect(Number(entry!.amount)).toBe(-55_000_000);
    expect((await gw.admin.post(`/api/admin/orders/${o.body.orderNo}/refund`, { reason: 'again' })).status).toBe(409);
    expect(await balance(spender)).toBe(1_000_000 - 55_000_000);
    expect((await spender.get(`/api/wallet/orders/${o.body.orderNo}`)).body.status).toBe('refunded');
  });

  it('provider settings: secrets sealed at rest, masked in answers, kept when a PUT omits them', async () => {
    const incomplete = await gw.admin.put('/api/admin/payment-providers/epay', { enabled: true, baseUrl: 'https://pay.example.com' });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.error.issues.map((i: any) => i.path[0]).sort()).toEqual(['key', 'pid']);
    const bad = await gw.admin.put('/api/admin/payment-providers/epay', { enabled: true, baseUrl: 'ftp://x', pid: '1', key: 'k', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: any) => i.path[0]).sort()).toEqual(['baseUrl', 'extra']);
    expect((await gw.admin.put('/api/admin/payment-providers/paypal', { enabled: true })).status).toBe(400);

    const put = await gw.admin.put('/api/admin/payment-providers/epay', { enabled: true, baseUrl: 'https://pay.example.com', pid: '1001', key: 'super-secret-merchant-key', signStyle: 'ampersand-key' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ provider: 'epay', enabled: true, config: { baseUrl: 'https://pay.example.com', pid: '1001', key: '********', signStyle: 'ampersand-key' } });
    const stored = await gw.gateway.db.get<{ config: string }>('SELECT config FROM payment_providers WHERE provider = ?', ['epay']);
    expect(stored!.config).not.toContain('super-secret-merchant-key');
    expect(JSON.parse(stored!.config).key).toMatch(/^enc:v1:/);

    const change = await gw.admin.put('/api/admin/payment-providers/epay', { pid: '1002' });
    expect(change.status).toBe(200);
    expect(change.body.config).toMatchObject({ pid: '1002', key: '********' });
    const list = await gw.admin.get('/api/admin/payment-providers');
    expect(JSON.stringify(list.body)).not.toContain('super-secret');
    const epay = list.body.items.find((p: any) => p.provider === 'epay');
    expect(epay.notifyUrl).toBe(`${gw.url}/api/payment/notify/epay`);
    expect(list.body.items.find((p: any) => p.provider === 'sandbox')).toMatchObject({ enabled: true, sandbox: true });
    // The key is still there: the provider builds and signs with it (pay link carries a sign).
    const o = await user.post('/api/wallet/topup', { amount: '10', method: 'epay' });
    expect(o.status, JSON.stringify(o.body)).toBe(201);
    const link = new URL(o.body.pay.url);
    expect(link.searchParams.get('pid')).toBe('1002');
    expect(link.searchParams.get('sign')).toMatch(/^[0-9a-f]{32}$/);
    expect(link.searchParams.get('money')).toBe('72.50');
    // The browser comes back to the console's wallet page (served at /wallet), never to a credit.
    expect(link.searchParams.get('return_url')).toBe(`${gw.url}/wallet?order=${o.body.orderNo}`);
    // Disabling keeps the settings; the method is gone from the options.
    expect((await gw.admin.put('/api/admin/payment-providers/epay', { enabled: false })).body.config.pid).toBe('1002');
    expect((await user.get('/api/wallet/topup/options')).body.methods.map((m: any) => m.method)).not.toContain('epay');
    // Users cannot read provider settings.
    expect((await user.get('/api/admin/payment-providers')).status).toBe(403);
  });

  it('notify route: no session or JSON needed (exempt from browser rules); untrusted calls are refused and audited', async () => {
    await gw.admin.put('/api/admin/payment-providers/epay', { enabled: true });
    const form = await fetch(`${gw.url}/api/payment/notify/epay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'pid=1002&out_trade_no=T1&money=1.00&trade_status=TRADE_SUCCESS&sign=00000000000000000000000000000000&sign_type=MD5',
    });
    expect(form.status).toBe(400); // the provider's refusal, not 403/415
    expect(await form.text()).not.toBe('success');
    expect((await fetch(`${gw.url}/api/payment/notify/nope`)).status).toBe(404);
    const rows = await gw.gateway.db.all('SELECT provider, verdict FROM payment_callbacks WHERE provider IN (?, ?) ORDER BY id DESC LIMIT 2', ['epay', 'nope']);
    expect(rows.map((r) => r.provider).sort()).toEqual(['epay', 'nope']);
    expect(rows.every((r) => String(r.verdict).startsWith('refused'))).toBe(true);
  });

  it('admin order list: search and filters, paged; bad filters are 400', async () => {
    const all = await gw.admin.get('/api/admin/orders?pageSize=200');
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThanOrEqual(5);
    const one = all.body.items[0];
    const byNo = await gw.admin.get(`/api/admin/orders?search=${one.orderNo}`);
    expect(byNo.body.items.map((o: any) => o.orderNo)).toEqual([one.orderNo]);
    const username = (await user.get('/api/me')).body.username as string;
    const byUser = await gw.admin.get(`/api/admin/orders?search=${encodeURIComponent(username.toUpperCase())}`);
    expect(byUser.body.items.length).toBeGreaterThan(0);
    expect(byUser.body.items.every((o: any) => o.userId === userId)).toBe(true);
    const transfers = await gw.admin.get('/api/admin/orders?method=transfer&status=paid');
    expect(transfers.body.items.length).toBe(1);
    expect(transfers.body.items[0]).toMatchObject({ method: 'transfer', status: 'paid', confirmedBy: 'admin' });
    const paged = await gw.admin.get('/api/admin/orders?pageSize=2&page=2');
    expect(paged.body).toMatchObject({ page: 2, pageSize: 2, total: all.body.total });
    expect(paged.body.items).toEqual(all.body.items.slice(2, 4));
    expect((await gw.admin.get('/api/admin/orders?status=lost')).status).toBe(400);
    expect((await gw.admin.get('/api/admin/orders?from=yesterday')).status).toBe(400);
    expect((await user.get('/api/admin/orders')).status).toBe(403);
  });
  it('answers equal their declared response schemas', async () => {
    const app = managementApp(gw.gateway);
    const schema = (method: string, path: string, status = 200): ZodType => {
      for (const def of app.openAPIRegistry.definitions) {
        if (def.type === 'route' && def.route.method === method && def.route.path === path) {
          return (def.route.responses[status] as { content: { 'application/json': { schema: ZodType } } }).content['application/json'].schema;
        }
      }
      throw new Error(`no route ${method} ${path}`);
    };
    const matches = (s: ZodType, body: unknown) => expect(s.parse(body)).toEqual(body);
    const created = await user.post('/api/wallet/topup', { amount: '3', method: 'transfer' });
    matches(schema('post', '/api/wallet/topup', 201), created.body);
    for (const [client, path, doc] of [
      [user, '/api/wallet/topup/options', '/api/wallet/topup/options'],
      [user, '/api/wallet/orders', '/api/wallet/orders'],
      [user, `/api/wallet/orders/${created.body.orderNo}`, '/api/wallet/orders/{orderNo}'],
      [gw.admin, '/api/admin/orders', '/api/admin/orders'],
      [gw.admin, '/api/admin/payment-providers', '/api/admin/payment-providers'],
      [gw.admin, '/api/admin/payment-providers/transfer', '/api/admin/payment-providers/{provider}'],
    ] as const) {
      const res = await client.get(path);
      expect(res.status, path).toBe(200);
      matches(schema('get', doc), res.body);
    }
    const confirmed = await gw.admin.post(`/api/admin/orders/${created.body.orderNo}/confirm`, {});
    matches(schema('post', '/api/admin/orders/{orderNo}/confirm'), confirmed.body);
    const refunded = await gw.admin.post(`/api/admin/orders/${created.body.orderNo}/refund`, { reason: 'schema' });
    matches(schema('post', '/api/admin/orders/{orderNo}/refund'), refunded.body);
    const bad = await user.post('/api/wallet/topup', { amount: '0.5', method: 'transfer' });
    matches(schema('post', '/api/wallet/topup', 400), bad.body);
  });
});
