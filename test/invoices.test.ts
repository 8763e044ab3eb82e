// Enterprise invoices: the 7-day rule (with the wallet's injectable clock), invoicing a top-up once
// (also under concurrency), field rules, and the admin queue (issue, reject → invoiceable again).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { managementApp } from '../src/http/app.ts';
import { walletClock } from '../src/wallet/clock.ts';
import type { ApiClient } from './helpers/api.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';

const DAY = 86_400_000;
const realNow = walletClock.now;

describe('invoices', () => {
  let gw: TestGateway;
  let user: ApiClient;
  let userId: number;

  beforeAll(async () => {
    gw = await startGateway();
    ({ client: user, userId } = await createUserWithKey(gw));
    expect((await gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'B', accountName: 'A', accountNo: '1' })).status).toBe(200);
  });
  afterAll(async () => {
    walletClock.now = realNow;
    await gw?.close();
  });
  afterEach(() => {
    walletClock.now = realNow;
  });

  /** A bank-transfer top-up an admin confirmed: returns its order number and when it was paid. */
  async function paidTopup(usd: string): Promise<{ orderNo: string; paidAt: number }> {
    const o = await user.post('/api/wallet/topup', { amount: usd, method: 'transfer' });
    expect(o.status).toBe(201);
    const c = await gw.admin.post(`/api/admin/orders/${o.body.orderNo}/confirm`, {});
    expect(c.status).toBe(200);
    return { orderNo: o.body.orderNo, paidAt: Date.parse(c.body.paidAt) };
  }
  const fields = { type: 'standard', title: 'Mole Industries Ltd', taxId: '91310000MA1FL0000X', email: 'finance@mole.example', lineItem: 'Information technology services' };

  it('eligible 7 days after payment: earlier is 400 with eligibleAt; then 201 with the amount paid; once only', async () => {
    const a = await paidTopup('20'); // ¥144.00 at the default 7.2
    const b = await paidTopup('30'); // ¥216.00
    const body = { ...fields, orderNos: [a.orderNo, b.orderNo] };
    const early = await user.post('/api/wallet/invoices', body);
    expect(early.status).toBe(400);
    expect(early.body.error.code).toBe('not_yet_eligible');
    expect(early.body.error.eligibleAt).toBe(new Date(b.paidAt + 7 * DAY).toISOString());

    walletClock.now = () => b.paidAt + 7 * DAY - 1;
    expect((await user.post('/api/wallet/invoices', body)).status).toBe(400);
    walletClock.now = () => b.paidAt + 7 * DAY;
    const ok = await user.post('/api/wallet/invoices', body);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ status: 'pending', amount: '360.00', currency: 'CNY', electronic: true, type: 'standard', url: null, lineItem: 'Information technology services' });
    expect([...ok.body.orderNos].sort()).toEqual([a.orderNo, b.orderNo].sort());

    const again = await user.post('/api/wallet/invoices', { ...fields, orderNos: [b.orderNo] });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_invoiced');
  });

  it('the delay is the setting when the invoice is requested, for earlier top-ups too', async () => {
    const a = await paidTopup('10');
    expect((await gw.admin.patch('/api/admin/settings', { invoiceDelayDays: 10 })).status).toBe(200);
    walletClock.now = () => a.paidAt + 8 * DAY;
    const early = await user.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] });
    expect(early.status).toBe(400);
    expect(early.body.error.eligibleAt).toBe(new Date(a.paidAt + 10 * DAY).toISOString());
    expect((await gw.admin.patch('/api/admin/settings', { invoiceDelayDays: 7 })).status).toBe(200);
    expect((await user.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] })).status).toBe(201);
  });

  it('bad requests are 400 naming the field', async () => {
    const a = await paidTopup('10');
    walletClock.now = () => a.paidAt + 30 * DAY;
    const pending = (await user.post('/api/wallet/topup', { amount: '10', method: 'transfer' })).body.orderNo;
    const { client: other } = await createUserWithKey(gw);
    for (const [body, field, code] of [
      [{ ...fields, orderNos: [a.orderNo], type: 'special_vat' }, 'address', 'invalid_request'],
      [{ ...fields, orderNos: [a.orderNo], lineItem: 'Consulting' }, 'lineItem', 'invalid_request'],
      [{ ...fields, orderNos: [a.orderNo], email: 'nope' }, 'email', 'invalid_request'],
      [{ ...fields, orderNos: [a.orderNo], taxId: '12' }, 'taxId', 'invalid_request'],
      [{ ...fields, orderNos: [] }, 'orderNos', 'invalid_request'],
      [{ ...fields, orderNos: [a.orderNo, a.orderNo] }, 'orderNos', 'invalid_request'],
      [{ ...fields, orderNos: [pending] }, 'orderNos', 'order_not_paid'],
    ] as const) {
      const res = await user.post('/api/wallet/invoices', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.issues.map((i: any) => i.path[0])).toContain(field);
    }
    const notMine = await other.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] });
    expect(notMine.status).toBe(400);
    expect(notMine.body.error.code).toBe('order_not_found');
    const vat = await user.post('/api/wallet/invoices', { ...fields, type: 'special_vat', orderNos: [a.orderNo], address: '1 Mole Rd', phone: '021-0000', bankName: 'B', bankAccount: '62220000' });
    expect(vat.status).toBe(201);
    expect(vat.body).toMatchObject({ type: 'special_vat', address: '1 Mole Rd', bankAccount: '62220000' });
  });

  it('two requests for the same top-up at once: one 201, one 409', async () => {
    const a = await paidTopup('10');
    walletClock.now = () => a.paidAt + 7 * DAY;
    const results = await Promise.all([1, 2, 3, 4].map(() => user.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });

  it('admin queue: issue with a URL the user sees; reject with a reason frees the top-ups; decided invoices are final', async () => {
    const a = await paidTopup('10');
    const b = await paidTopup('10');
    walletClock.now = () => b.paidAt + 7 * DAY;
    const one = (await user.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] })).body;
    const two = (await user.post('/api/wallet/invoices', { ...fields, orderNos: [b.orderNo] })).body;
    const queue = await gw.admin.get(`/api/admin/invoices?status=pending&userId=${userId}`);
    expect(queue.status).toBe(200);
    expect(queue.body.items.map((i: any) => i.id)).toEqual(expect.arrayContaining([one.id, two.id]));
    expect(queue.body.items.every((i: any) => i.status === 'pending' && i.userId === userId)).toBe(true);
    expect((await gw.admin.get('/api/admin/invoices?search=mole%20INDUSTRIES')).body.total).toBeGreaterThanOrEqual(2);

    const issued = await gw.admin.post(`/api/admin/invoices/${one.id}/issue`, { url: 'https://files.example/inv-1.pdf' });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ status: 'issued', url: 'https://files.example/inv-1.pdf', decidedBy: 'admin' });
    expect((await gw.admin.post(`/api/admin/invoices/${one.id}/issue`, { url: 'https://files.example/x.pdf' })).status).toBe(409);
    expect((await gw.admin.post(`/api/admin/invoices/${one.id}/reject`, { reason: 'late' })).status).toBe(409);
    expect((await gw.admin.post(`/api/admin/invoices/${one.id}/issue`, { url: 'javascript:alert(1)' })).status).toBe(400);
    expect((await gw.admin.post('/api/admin/invoices/999999/issue', { url: 'https://files.example/x.pdf' })).status).toBe(404);

    const rejected = await gw.admin.post(`/api/admin/invoices/${two.id}/reject`, { reason: 'tax id does not match the title' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectReason: 'tax id does not match the title', orderNos: [b.orderNo] });
    const mine = await user.get('/api/wallet/invoices');
    expect(mine.body.items.find((i: any) => i.id === one.id)).toMatchObject({ status: 'issued', url: 'https://files.example/inv-1.pdf' });
    expect(mine.body.items.find((i: any) => i.id === two.id)).toMatchObject({ status: 'rejected', orderNos: [b.orderNo] });
    const retry = await user.post('/api/wallet/invoices', { ...fields, title: 'Mole Industries Co., Ltd', orderNos: [b.orderNo] });
    expect(retry.status).toBe(201);
    expect((await user.get('/api/admin/invoices')).status).toBe(403);
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
    const a = await paidTopup('10');
    const early = await user.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] });
    matches(schema('post', '/api/wallet/invoices', 400), early.body);
    walletClock.now = () => a.paidAt + 7 * DAY;
    const created = await user.post('/api/wallet/invoices', { ...fields, orderNos: [a.orderNo] });
    matches(schema('post', '/api/wallet/invoices', 201), created.body);
    matches(schema('get', '/api/wallet/invoices'), (await user.get('/api/wallet/invoices')).body);
    matches(schema('get', '/api/admin/invoices'), (await gw.admin.get('/api/admin/invoices')).body);
    matches(schema('post', '/api/admin/invoices/{id}/reject'), (await gw.admin.post(`/api/admin/invoices/${created.body.id}/reject`, { reason: 'x' })).body);
  });
});
