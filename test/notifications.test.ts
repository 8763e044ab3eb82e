// Email and alerts wired into the gateway: admin SMTP settings with a test email, per-user
// notification settings with a test message for each method, and balance alerts from admin
// adjustments and refunds, delivered by the gateway's own outbox worker to real local receivers.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver, type Receiver } from './fakes/notify/receiver.ts';
import { startSmtpSink, type SmtpSink } from './fakes/notify/smtp-sink.ts';
import { alertThresholds } from '../src/wallet/alert-thresholds.ts';
import { balanceAlertsAfterSettlement } from '../src/wallet/balance-alerts.ts';
import type { Queryable } from '../src/db/index.ts';
import { until } from './helpers/poll.ts';

let gw: TestGateway;
let webhook: Receiver;
let bark: Receiver;
let gotify: Receiver;
let sink: SmtpSink;

beforeAll(async () => {
  [gw, webhook, bark, gotify, sink] = await Promise.all([
    startGateway(),
    startReceiver('webhook'),
    startReceiver('bark'),
    startReceiver('gotify', { gotifyToken: 'tok-1' }),
    startSmtpSink({ mode: 'none', auth: { user: 'mailer', pass: 'smtp-pass-1' } }),
  ]);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([webhook?.close(), bark?.close(), gotify?.close(), sink?.close()]);
});

/** Waits for something the gateway's outbox worker does in the background. */

const smtpBody = () => ({ host: '127.0.0.1', port: sink.port, security: 'none', user: 'mailer', password: 'smtp-pass-1', from: 'MoleAPI <noreply@example.test>' });

async function allowPrivate(on: boolean) {
  expect((await gw.admin.patch('/api/admin/settings', { allowPrivateWebhooks: on })).status).toBe(200);
}

async function setBalance(userId: number, client: ApiClient, target: number) {
  const now = (await client.get('/api/wallet')).body.balance.quota as number;
  if (now !== target) expect((await gw.admin.post(`/api/admin/users/${userId}/adjust`, { quota: target - now, reason: 'test setup' })).status).toBe(201);
}

describe('admin SMTP settings', () => {
  it('stores the password sealed, shows it masked, keeps it when omitted, and sends a real test email', async () => {
    expect((await gw.admin.get('/api/admin/smtp')).body).toBeNull();
    // Without settings a test email is a clear 422, not a 500.
    const early = await gw.admin.post('/api/admin/smtp/test', { to: 'ops@example.test' });
    expect(early.status).toBe(422);
    expect(early.body.error.code).toBe('send_failed');

    const put = await gw.admin.put('/api/admin/smtp', smtpBody());
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ ...smtpBody(), password: '********' });
    const stored = await gw.gateway.db.get<{ config: string }>('SELECT config FROM smtp_settings WHERE id = 1');
    expect(stored!.config).not.toContain('smtp-pass-1');
    // Omitting the password keeps it: the test email still authenticates.
    const { password: _, ...noPassword } = smtpBody();
    expect((await gw.admin.put('/api/admin/smtp', noPassword)).body.password).toBe('********');

    const sent = await gw.admin.post('/api/admin/smtp/test', { to: 'ops@example.test' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const [mail] = await sink.waitForMails(1);
    expect(mail).toMatchObject({ envelopeTo: ['ops@example.test'], user: 'mailer', subject: 'MoleAPI: test email' });
    expect(mail!.from).toContain('noreply@example.test');

    expect((await gw.admin.post('/api/admin/smtp/test', { to: 'not an address' })).status).toBe(400);
    const bad = await gw.admin.put('/api/admin/smtp', { ...smtpBody(), security: 'ssl' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toEqual(['security']);
    const { client } = await createUserWithKey(gw);
    expect((await client.get('/api/admin/smtp')).status).toBe(403);
  });
});

describe('per-user notification settings', () => {
  it('refuses loopback receivers unless the admin allows them, naming the field', async () => {
    const { client } = await createUserWithKey(gw);
    await allowPrivate(false);
    for (const [body, field] of [
      [{ method: 'webhook', webhookUrl: webhook.url }, 'webhookUrl'],
      [{ method: 'bark', barkUrl: `${bark.url}/devkey` }, 'barkUrl'],
      [{ method: 'gotify', gotifyUrl: gotify.url, gotifyToken: 'tok-1' }, 'gotifyUrl'],
      [{ method: 'webhook', webhookUrl: 'ftp://example.com/x' }, 'webhookUrl'],
      [{ method: 'email', email: 'nope' }, 'email'],
      [{ method: 'gotify', gotifyUrl: 'https://gotify.example.com', gotifyToken: 't', gotifyPriority: 11 }, 'gotifyPriority'],
      [{ method: 'sms' }, 'method'],
    ] as const) {
      const res = await client.put('/api/me/notifications', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.issues[0].path, JSON.stringify(res.body)).toEqual([field]);
    }
    expect((await client.get('/api/me/notifications')).status).toBe(404);
  });

  it('webhook: secret write-only, threshold defaults to the admin setting, signed test message', async () => {
    await allowPrivate(true);
    const { client } = await createUserWithKey(gw);
    const put = await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/hook`, webhookSecret: 'whsec-1' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ method: 'webhook', thresholdQuota: 500_000, webhookSecret: '********', gotifyToken: null });
    // Changing another field without the secret keeps it.
    expect((await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/hook`, thresholdQuota: 123 })).body).toMatchObject({ thresholdQuota: 123, webhookSecret: '********' });
    const row = await gw.gateway.db.get<{ config: string }>('SELECT config FROM notification_settings WHERE user_id = (SELECT MAX(user_id) FROM notification_settings)');
    expect(row!.config).not.toContain('whsec-1');

    const n = webhook.requests.length;
    expect((await client.post('/api/me/notifications/test')).status).toBe(200);
    const req = (await webhook.waitForRequests(n + 1))[n]!;
    expect(req.path).toBe('/hook');
    expect(JSON.parse(req.rawBody)).toMatchObject({ type: 'test', title: 'MoleAPI: test notification' });
    expect(req.headers['x-webhook-signature']).toBe(createHmac('sha256', 'whsec-1').update(req.rawBody).digest('hex'));

    webhook.failNext(500);
    const failed = await client.post('/api/me/notifications/test');
    expect(failed.status).toBe(422);
    expect(failed.body.error.code).toBe('send_failed');
  });

  it('Bark, Gotify and email test messages reach their real receivers', async () => {
    await allowPrivate(true);
    const { client } = await createUserWithKey(gw);
    expect((await client.put('/api/me/notifications', { method: 'bark', barkUrl: `${bark.url}/devkey` })).status).toBe(200);
    const nb = bark.requests.length;
    expect((await client.post('/api/me/notifications/test')).status).toBe(200);
    expect(decodeURIComponent((await bark.waitForRequests(nb + 1))[nb]!.path)).toBe('/devkey/MoleAPI: test notification/This is a test notification. Your alert settings work.');

    const put = await client.put('/api/me/notifications', { method: 'gotify', gotifyUrl: gotify.url, gotifyToken: 'tok-1', gotifyPriority: 8 });
    expect(put.body).toMatchObject({ gotifyToken: '********', gotifyPriority: 8 });
    const ng = gotify.requests.length;
    expect((await client.post('/api/me/notifications/test')).status).toBe(200);
    const g = (await gotify.waitForRequests(ng + 1))[ng]!;
    expect(g.query.get('token')).toBe('tok-1');
    expect(JSON.parse(g.rawBody)).toMatchObject({ title: 'MoleAPI: test notification', priority: 8 });

    await gw.admin.put('/api/admin/smtp', smtpBody());
    expect((await client.put('/api/me/notifications', { method: 'email', email: 'me@example.test' })).status).toBe(200);
    const nm = sink.mails.length;
    expect((await client.post('/api/me/notifications/test')).status).toBe(200);
    expect((await sink.waitForMails(nm + 1))[nm]).toMatchObject({ envelopeTo: ['me@example.test'], subject: 'MoleAPI: test notification' });
  });
});

describe('balance alerts outside the relay', () => {
  it('an admin debit crossing the threshold sends one webhook alert through the outbox; no second until re-armed', async () => {
    await allowPrivate(true);
    const { client, userId } = await createUserWithKey(gw);
    await setBalance(userId, client, 2_000_000);
    await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/u${userId}`, webhookSecret: 's', thresholdQuota: 1_000_000 });
    const mine = () => webhook.requests.filter((r) => r.path === `/u${userId}`);
    await setBalance(userId, client, 900_000); // crosses: alert
    await setBalance(userId, client, 800_000); // still below: none
    await setBalance(userId, client, 1_000_000); // back at the threshold: re-armed
    await setBalance(userId, client, 999_999); // crosses again: alert
    await setBalance(userId, client, 999_998);
    // Enqueued with the adjustments, so the rows are all there now: exactly two.
    const rows = await gw.gateway.db.all(`SELECT id FROM outbox WHERE dedupe_key LIKE ?`, [`alert:balance_low:${userId}:%`]);
    expect(rows).toHaveLength(2);
    await until(() => mine().length >= 2);
    const bodies = mine().map((r) => JSON.parse(r.rawBody));
    expect(bodies.map((b) => [b.type, b.values.balance.quota, b.values.threshold.quota])).toEqual([
      ['balance_low', 900_000, 1_000_000],
      ['balance_low', 999_999, 1_000_000],
    ]);
  });

  it('a refund taking the balance below the threshold enqueues the alert in its own transaction', async () => {
    await allowPrivate(true);
    await gw.admin.put('/api/admin/payment-providers/sandbox', { enabled: true });
    const { client, userId } = await createUserWithKey(gw);
    await setBalance(userId, client, 0);
    const o = await client.post('/api/wallet/topup', { amount: '10', method: 'sandbox' });
    expect(o.body.status, JSON.stringify(o.body)).toBe('paid');
    await client.put('/api/me/notifications', { method: 'bark', barkUrl: `${bark.url}/refund${userId}`, thresholdQuota: 1_000_000 });
    const n = bark.requests.length;
    expect((await gw.admin.post(`/api/admin/orders/${o.body.orderNo}/refund`, { reason: 'asked' })).status).toBe(200);
    const req = (await bark.waitForRequests(n + 1))[n]!;
    expect(decodeURIComponent(req.path)).toContain(`/refund${userId}/MoleAPI: balance below $2.00`);
    const rows = await gw.gateway.db.all(`SELECT dedupe_key FROM outbox WHERE dedupe_key = ?`, [`alert:balance_low:${userId}:refund:${o.body.orderNo}`]);
    expect(rows).toHaveLength(1);
  });

  it('balanceAlertsAfterSettlement: one row per crossing, none for rises, users without settings or replays', async () => {
    const a = await createUserWithKey(gw);
    const b = await createUserWithKey(gw);
    await a.client.put('/api/me/notifications', { method: 'email', email: 'a@example.test', thresholdQuota: 1000 });
    const db = gw.gateway.db;
    const changes = [
      { userId: a.userId, before: 1500, after: 1000, reference: 'req-1' }, // at the threshold: not below
      { userId: a.userId, before: 1000, after: 999, reference: 'req-2' }, // crosses
      { userId: a.userId, before: 999, after: 10, reference: 'req-3' }, // already below
      { userId: a.userId, before: 10, after: 5000, reference: 'req-4' }, // a rise
      { userId: b.userId, before: 5000, after: 1, reference: 'req-5' }, // no settings
    ];
    expect(await db.tx((q) => balanceAlertsAfterSettlement(q, changes))).toBe(1);
    expect(await db.tx((q) => balanceAlertsAfterSettlement(q, changes))).toBe(0); // replayed settlement
    expect(await db.tx((q) => balanceAlertsAfterSettlement(q, [{ userId: a.userId, before: 5000, after: 4000 }]))).toBe(0);
    const rows = await db.all<{ payload: string }>(`SELECT payload FROM outbox WHERE dedupe_key LIKE ?`, [`alert:balance_low:${a.userId}:%`]);
    expect(rows.map((r) => JSON.parse(r.payload))).toEqual([{ userId: a.userId, event: { type: 'balance_low', balance: 999, threshold: 1000 } }]);
    // Rolled back with its transaction.
    await expect(db.tx(async (q) => {
      await balanceAlertsAfterSettlement(q, [{ userId: a.userId, before: 2000, after: 0, reference: 'req-rolled-back' }]);
      throw new Error('rollback');
    })).rejects.toThrow('rollback');
    expect(await db.all(`SELECT id FROM outbox WHERE dedupe_key = ?`, [`alert:balance_low:${a.userId}:req-rolled-back`])).toHaveLength(0);
  });

  it("with the gateway's in-memory thresholds the settlement check runs no query; a PUT updates them", async () => {
    const { client, userId } = await createUserWithKey(gw);
    const book = alertThresholds(gw.gateway.db)!;
    expect(book.get(userId)).toBeUndefined();
    await client.put('/api/me/notifications', { method: 'email', email: 'mem@example.test', thresholdQuota: 2000 });
    expect(book.get(userId)).toBe(2000);
    // A handle that counts statements: only the crossing's outbox insert may run.
    const db = gw.gateway.db;
    const statements: string[] = [];
    const counted = (q: Queryable): Queryable =>
      new Proxy(q, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' && ['get', 'all', 'run'].includes(String(prop))
            ? (sql: string, params?: unknown[]) => {
                statements.push(sql);
                return v.call(target, sql, params);
              }
            : v;
        },
      });
    const noCrossing = [{ userId, before: 9000, after: 5000, reference: 'm-1' }, { userId: userId + 100_000, before: 9, after: 1, reference: 'm-2' }];
    expect(await db.tx((q) => balanceAlertsAfterSettlement(counted(q), noCrossing, book))).toBe(0);
    expect(statements).toEqual([]);
    expect(await db.tx((q) => balanceAlertsAfterSettlement(counted(q), [{ userId, before: 2000, after: 1999, reference: 'm-3' }], book))).toBe(1);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^\s*INSERT INTO outbox/);
    // Threshold 0 turns alerts off, in memory too.
    await client.put('/api/me/notifications', { method: 'email', thresholdQuota: 0 });
    expect(book.get(userId)).toBeUndefined();
  });
});
