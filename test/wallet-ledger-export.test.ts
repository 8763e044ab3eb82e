// GET /api/wallet/ledger filters (kind, from/to) and CSV export; GET /api/wallet's pendingOrders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../src/ledger/holds.ts';
import type { UsageLogRow } from '../src/logs/usage-log.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const DAY = 86_400_000;
const logRow = (requestId: string, userId: number, keyId: number, cost: number, createdAt: number): UsageLogRow => ({
  requestId, userId, keyId, keyName: 'test key', model: 'm', group: 'default', channelId: null, channelName: null,
  promptTokens: 1, completionTokens: 1, cachedTokens: 0, cost, durationMs: 1, firstTokenMs: null, stream: false, status: 200,
  estimated: false, error: null, createdAt,
});

describe('wallet ledger filters and export', () => {
  it('filters by kind and time range, and exports the same lines as CSV', async () => {
    const { client, userId, keyId } = await createUserWithKey(gw, { balance: 1_000_000 });
    const db = gw.gateway.db;
    const today = Math.floor(Date.now() / DAY) * DAY;
    const twoDaysAgo = today - 2 * DAY + 3600_000;
    await settle(db, { holdId: `ex-a-${userId}`, userId, keyId, cost: 700, log: logRow(`ex-a-${userId}`, userId, keyId, 700, twoDaysAgo) });
    await settle(db, { holdId: `ex-b-${userId}`, userId, keyId, cost: 300, log: logRow(`ex-b-${userId}`, userId, keyId, 300, today + 60_000) });
    const adj = await gw.admin.post(`/api/admin/users/${userId}/adjust`, { quota: -5, reason: '=HYPERLINK("x")' });
    expect(adj.status).toBe(201);

    const all = (await client.get('/api/wallet/ledger?pageSize=200')).body;
    const kinds = all.items.map((i: any) => i.kind).sort();
    expect(kinds).toEqual(['adjustment', 'adjustment', 'trial', 'usage', 'usage'].sort());

    const usageRes = await client.get('/api/wallet/ledger?kind=usage');
    expect(usageRes.status, JSON.stringify(usageRes.body)).toBe(200);
    const usage = usageRes.body;
    expect(usage.total).toBe(2);
    expect(usage.items.map((i: any) => i.amount.quota)).toEqual([-300, -700]);
    const adjustments = (await client.get('/api/wallet/ledger?kind=adjustment')).body;
    expect(adjustments.total).toBe(2);
    expect(adjustments.items.every((i: any) => i.kind === 'adjustment')).toBe(true);

    // From yesterday: the older usage day drops out, the rest stays.
    const from = new Date(today - DAY).toISOString();
    const recent = (await client.get(`/api/wallet/ledger?from=${from}`)).body;
    expect(recent.total).toBe(all.total - 1);
    expect(recent.items.some((i: any) => i.kind === 'usage' && i.amount.quota === -700)).toBe(false);
    // Up to yesterday (exclusive): only that usage day.
    const old = (await client.get(`/api/wallet/ledger?to=${today - DAY}`)).body;
    expect(old.items.map((i: any) => [i.kind, i.amount.quota])).toEqual([['usage', -700]]);
    expect(old.total).toBe(1);

    for (const bad of ['kind=nope', 'from=yesterday', 'format=xml', `from=${today}&to=${today - 1}`]) {
      const res = await client.get(`/api/wallet/ledger?${bad}`);
      expect(res.status, bad).toBe(400);
    }

    const csv = await fetch(`${gw.url}/api/wallet/ledger?format=csv&kind=adjustment`, { headers: { cookie: (client as any).cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,kind,amount_quota,amount_usd,balance_after_quota,balance_after_usd,reference,created_at,note,day,requests');
    expect(lines).toHaveLength(3);
    const [newest] = adjustments.items;
    expect(lines[1]).toBe(
      `${newest.id},adjustment,-5,-0.000010,${newest.balanceAfter.quota},${newest.balanceAfter.usd},"${newest.reference}",${newest.createdAt},"'=HYPERLINK(""x"") (by admin)",,`,
    );
    const fullCsv = await (await fetch(`${gw.url}/api/wallet/ledger?format=csv`, { headers: { cookie: (client as any).cookie } })).text();
    expect(fullCsv.trimEnd().split('\r\n')).toHaveLength(all.total + 1);
    expect(fullCsv).toContain(`,usage,-700,-0.001400,`);
  });

  it('GET /api/wallet counts the pending orders', async () => {
    const { client, userId } = await createUserWithKey(gw);
    expect((await client.get('/api/wallet')).body.pendingOrders).toBe(0);
    expect((await gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'B', accountName: 'A', accountNo: '1' })).status).toBe(200);
    const o1 = await client.post('/api/wallet/topup', { amount: '10', method: 'transfer' });
    expect(o1.status, JSON.stringify(o1.body)).toBe(201);
    expect((await client.post('/api/wallet/topup', { amount: '20', method: 'transfer' })).status).toBe(201);
    expect((await client.get('/api/wallet')).body.pendingOrders).toBe(2);
    expect((await gw.admin.post(`/api/admin/orders/${o1.body.orderNo}/confirm`, {})).status).toBe(200);
    expect((await client.get('/api/wallet')).body.pendingOrders).toBe(1);
    await gw.gateway.db.run(`UPDATE payment_orders SET status = 'expired' WHERE user_id = ?`, [userId]);
    expect((await client.get('/api/wallet')).body.pendingOrders).toBe(0);
  });
});
