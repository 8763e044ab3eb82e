// Alerts from the relay's settlements and the other wallet side effects that run from the outbox, end
// to end on a real gateway (SQLite, or PostgreSQL with TEST_DATABASE_URL): relay calls through a fake
// OpenAI upstream charge the user, the settlement judges crossings from the balances it returns, and
// the gateway's own outbox worker delivers to a real webhook receiver or SMTP sink. Also: key-expired
// alerts, the admin adjustment's alert in the entry's own transaction, and order expiry surviving a
// restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import type { Settlement } from '../src/ledger/settlement-writer.ts';
import { walletClock } from '../src/wallet/clock.ts';
import { findOrder } from '../src/wallet/orders.ts';
import { settlementAlerts } from '../src/wallet/settlement-alerts.ts';
import type { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, freshDatabase, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { startReceiver, type Receiver } from './fakes/notify/receiver.ts';
import { startSmtpSink, type SmtpSink } from './fakes/notify/smtp-sink.ts';
import { until } from './helpers/poll.ts';

const PER_REQUEST = 180_000; // $0.36 per request: the hold equals the charge
const THRESHOLD = 500_000;
let gw: TestGateway;
let up: FakeOpenAI;
let webhook: Receiver;
let sink: SmtpSink;
let model: string;

beforeAll(async () => {
  [gw, up, webhook, sink] = await Promise.all([startGateway(), startFakeOpenAI(), startReceiver('webhook'), startSmtpSink({ mode: 'none' })]);
  model = `alerts${process.pid}`;
  await addChannel(gw, { baseUrl: up.url, models: [model] });
  await setPrice(gw, model, { perRequest: '0.36' });
  expect((await gw.admin.patch('/api/admin/settings', { allowPrivateWebhooks: true })).status).toBe(200);
  expect((await gw.admin.put('/api/admin/smtp', { host: '127.0.0.1', port: sink.port, security: 'none', from: 'MoleAPI <alerts@example.test>' })).status).toBe(200);
  expect((await gw.admin.put('/api/admin/payment-providers/sandbox', { enabled: true })).status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([up?.close(), webhook?.close(), sink?.close()]);
});

async function call(key: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function balance(client: ApiClient): Promise<number> {
  return (await client.get('/api/wallet')).body.balance.quota;
}

/** Every outbox row of one kind of alert for this user or key, however it ends. */
async function alertRows(prefix: string): Promise<Array<{ dedupe_key: string; status: string }>> {
  await gw.settled(); // on PostgreSQL the answer goes out before its settlement (and its alert) commits
  return gw.gateway.db.all(`SELECT dedupe_key, status FROM outbox WHERE dedupe_key LIKE ? ORDER BY id`, [`${prefix}%`]);
}

const drained = (prefix: string) => until(async () => (await alertRows(prefix)).every((r) => r.status === 'done'));
const hooksOf = (userId: number) => webhook.requests.filter((r) => r.path === `/u${userId}`).map((r) => JSON.parse(r.rawBody));

describe('balance alerts from relay settlements', () => {
  it('the request that crosses alerts once; below, none; after a top-up above, the next crossing alerts again', async () => {
    const { client, userId, key } = await createUserWithKey(gw, { balance: 600_000 });
    expect((await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/u${userId}`, webhookSecret: 's', thresholdQuota: THRESHOLD })).status).toBe(200);
    const prefix = `alert:balance_low:${userId}:`;

    expect(await call(key)).toBe(200); // 600,000 → 420,000: crosses
    expect(await balance(client)).toBe(420_000);
    // Enqueued with the settlement: the row is there once the answer is out.
    expect(await alertRows(prefix)).toHaveLength(1);
    expect(await call(key)).toBe(200); // 240,000: already below
    expect(await alertRows(prefix)).toHaveLength(1);

    const topup = await client.post('/api/wallet/topup', { amount: '1', method: 'sandbox' }); // +500,000 → 740,000
    expect(topup.body.status, JSON.stringify(topup.body)).toBe('paid');
    expect(await call(key)).toBe(200); // 560,000: above
    expect(await alertRows(prefix)).toHaveLength(1);
    expect(await call(key)).toBe(200); // 380,000: crosses again
    expect(await balance(client)).toBe(380_000);
    expect(await alertRows(prefix)).toHaveLength(2);

    await drained(prefix);
    const bodies = hooksOf(userId);
    expect(bodies.map((b) => [b.type, b.values.balance.quota, b.values.threshold.quota])).toEqual([
      ['balance_low', 420_000, THRESHOLD],
      ['balance_low', 380_000, THRESHOLD],
    ]);
    // Named by the request whose charge crossed.
    const logs = await gw.gateway.db.all<{ request_id: string; balance_after: number }>('SELECT request_id, balance_after FROM usage_logs WHERE user_id = ? ORDER BY id', [userId]);
    const crossing = logs.filter((l) => [420_000, 380_000].includes(Number(l.balance_after))).map((l) => `${prefix}${l.request_id}`);
    expect((await alertRows(prefix)).map((r) => r.dedupe_key)).toEqual(crossing);
  });

  it('concurrent requests settled together: exactly one alert, from the request that crossed', async () => {
    const { client, userId, key } = await createUserWithKey(gw, { balance: 1_000_000 });
    await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/u${userId}`, thresholdQuota: THRESHOLD });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => call(key)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await balance(client)).toBe(100_000);
    const prefix = `alert:balance_low:${userId}:`;
    expect(await alertRows(prefix)).toHaveLength(1);
    await drained(prefix);
    // 1,000,000 − 3 × 180,000: the third charge in settlement order is the one below 500,000.
    expect(hooksOf(userId).map((b) => b.values.balance.quota)).toEqual([460_000]);
  });

  it('users without settings or with threshold 0 get no balance alert rows', async () => {
    const a = await createUserWithKey(gw, { balance: 600_000 });
    const b = await createUserWithKey(gw, { balance: 600_000 });
    await b.client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/u${b.userId}`, thresholdQuota: 0 });
    expect(await call(a.key)).toBe(200);
    expect(await call(b.key)).toBe(200);
    expect(await alertRows(`alert:balance_low:${a.userId}:`)).toHaveLength(0);
    expect(await alertRows(`alert:balance_low:${b.userId}:`)).toHaveLength(0);
  });
});

describe('key alerts', () => {
  it('key limit: the settlement that uses it up alerts once (email); raised and used up again, once more', async () => {
    const { client, userId, key, keyId } = await createUserWithKey(gw, { balance: 5_000_000, key: { quotaLimit: 2 * PER_REQUEST } });
    await client.put('/api/me/notifications', { method: 'email', email: `keys${userId}@example.test`, thresholdQuota: 0 });
    const prefix = `alert:key_limit:${keyId}:`;
    expect(await call(key)).toBe(200); // used 180,000 of 360,000
    expect(await alertRows(prefix)).toHaveLength(0);
    expect(await call(key)).toBe(200); // 360,000: exhausted
    expect(await alertRows(prefix)).toHaveLength(1);
    expect(await call(key)).toBe(429); // refused by the hold: nothing settled, no alert
    expect((await client.patch(`/api/keys/${keyId}`, { quotaLimit: 3 * PER_REQUEST })).status).toBe(200);
    expect(await call(key)).toBe(200); // 540,000 of 540,000
    expect(await alertRows(prefix)).toHaveLength(2);
    await drained(prefix);
    const mine = () => sink.mails.filter((m) => m.envelopeTo[0] === `keys${userId}@example.test`);
    await until(() => mine().length >= 2);
    expect(mine().map((m) => m.subject)).toEqual(['MoleAPI: key "test key" reached its limit', 'MoleAPI: key "test key" reached its limit']);
    expect(mine()[1]!.text).toContain('has used $1.08 of its $1.08 limit');
  });

  it('key expiry: one alert when it expires; a key whose expiry moved alerts at the new time only; a deleted key never', async () => {
    const { client, userId } = await createUserWithKey(gw);
    await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/u${userId}`, thresholdQuota: 0 });
    const soon = Date.now() + 1500;
    const a = await client.post('/api/keys', { name: 'expiring', expiresAt: soon });
    const moved = await client.post('/api/keys', { name: 'moved', expiresAt: soon });
    const gone = await client.post('/api/keys', { name: 'deleted', expiresAt: soon });
    expect((await client.patch(`/api/keys/${moved.body.id}`, { expiresAt: soon + 1000 })).status).toBe(200);
    expect((await client.patch(`/api/keys/${a.body.id}`, { name: 'expiring' })).status).toBe(200); // saved again: still one row
    expect((await client.delete(`/api/keys/${gone.body.id}`)).status).toBe(200);
    expect(hooksOf(userId)).toHaveLength(0);
    await until(() => hooksOf(userId).length >= 2);
    await drained(`alert:key_expired:${moved.body.id}:`);
    await drained(`alert:key_expired:${gone.body.id}:`);
    const bodies = hooksOf(userId);
    expect(bodies.map((b) => [b.type, b.values.keyName])).toEqual([
      ['key_expired', 'expiring'],
      ['key_expired', 'moved'],
    ]);
    expect(bodies[0].timestamp * 1000).toBeGreaterThanOrEqual(Math.floor(soon / 1000) * 1000);
    expect(bodies[1].values.expiresAt).toBe(new Date(soon + 1000).toISOString());
    expect(await alertRows(`alert:key_expired:${a.body.id}:`)).toHaveLength(1);
  });
});

describe('admin adjustment alert', () => {
  it('is enqueued in the entry’s transaction: if the alert cannot be written, the adjustment is not applied either', async () => {
    const { client, userId } = await createUserWithKey(gw, { balance: 2_000_000 });
    await client.put('/api/me/notifications', { method: 'webhook', webhookUrl: `${webhook.url}/u${userId}`, thresholdQuota: 1_000_000 });
    const db = gw.gateway.db;
    // A real database refusal of this user's alert row (a trigger), as a full disk or lost connection would.
    const pattern = `alert:balance_low:${userId}:%`;
    if (db.dialect === 'sqlite') {
      await db.run(`CREATE TRIGGER refuse_alert BEFORE INSERT ON outbox WHEN NEW.dedupe_key LIKE '${pattern}' BEGIN SELECT RAISE(ABORT, 'outbox refused'); END`);
    } else {
      await db.run(`CREATE FUNCTION refuse_alert() RETURNS trigger AS $$ BEGIN IF NEW.dedupe_key LIKE '${pattern}' THEN RAISE EXCEPTION 'outbox refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await db.run('CREATE TRIGGER refuse_alert BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_alert()');
    }
    const adjust = () => gw.admin.post(`/api/admin/users/${userId}/adjust`, { quota: -1_500_000, reason: 'chargeback' }, { 'idempotency-key': `k-${userId}` });
    try {
      expect((await adjust()).status).toBe(500);
      expect(await balance(client)).toBe(2_000_000);
      expect(await db.all('SELECT id FROM ledger_entries WHERE reference = ?', [`adjust:${userId}:k-${userId}`])).toHaveLength(0);
    } finally {
      await db.run('DROP TRIGGER refuse_alert' + (db.dialect === 'postgres' ? ' ON outbox' : ''));
      if (db.dialect === 'postgres') await db.run('DROP FUNCTION refuse_alert()');
    }
    // The retry (same Idempotency-Key) applies the adjustment and its alert, once.
    expect((await adjust()).status).toBe(201);
    expect((await adjust()).status).toBe(200);
    expect(await balance(client)).toBe(500_000);
    expect(await alertRows(`alert:balance_low:${userId}:`)).toHaveLength(1);
    await until(() => hooksOf(userId).length >= 1);
    expect(hooksOf(userId).map((b) => b.values.balance.quota)).toEqual([500_000]);
  });
});

describe('settlementAlerts (what the writer enqueues for a batch)', () => {
  const s = (userId: number, keyId: number, cost: number, requestId: string): Settlement =>
    ({ holdId: requestId, userId, keyId, cost, log: { requestId, keyName: `k${keyId}` } }) as Settlement;

  it('walks each account back from the balances returned: one row per crossing, none for others', () => {
    const thresholds = new Map([[1, 1000]]);
    const items = [s(1, 10, 300, 'a'), s(2, 20, 5000, 'b'), s(1, 10, 300, 'c'), s(1, 11, 0, 'd'), s(1, 10, 300, 'e')];
    // User 1: 1500 → 1200 → 900 (c crosses) → 900 → 600. Key 10: 100 → 400 → 700 → 1000 (e reaches 1000).
    const rows = settlementAlerts(thresholds)({
      items,
      balances: new Map([[1, 600], [2, -10]]),
      keys: new Map([[10, { used: 1000, limit: 1000 }], [11, { used: 5, limit: 1 }], [20, { used: 9e9, limit: null }]]),
    });
    expect(rows.map((r) => r.dedupeKey)).toEqual(['alert:balance_low:1:c', 'alert:key_limit:10:e']);
    expect(rows.map((r) => (r.payload as { event: unknown }).event)).toEqual([
      { type: 'balance_low', balance: 900, threshold: 1000 },
      { type: 'key_limit_exhausted', keyId: 10, keyName: 'k10', used: 1000, limit: 1000 },
    ]);
  });
});

describe('order expiry from the outbox', () => {
  it('an order created before a restart expires at its time, run by the new process', async () => {
    expect((await gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'B', accountName: 'A', accountNo: '1' })).status).toBe(200);
    expect((await gw.admin.patch('/api/admin/settings', { orderExpiryMinutes: 1 })).status).toBe(200);
    const { client } = await createUserWithKey(gw);
    // Created "52 s ago", so its one-minute expiry is 8 s away.
    walletClock.now = () => Date.now() - 52_000;
    let created;
    try {
      created = await client.post('/api/wallet/topup', { amount: '10', method: 'transfer' });
    } finally {
      walletClock.now = () => Date.now();
    }
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const orderNo: string = created.body.orderNo;
    const expiresAt = (await findOrder(gw.gateway.db, orderNo))!.expiresAt;
    expect(expiresAt - Date.now()).toBeGreaterThan(4000);

    await gw.close({ keepDatabase: true });
    gw = await startGateway({ databaseUrl: gw.databaseUrl, adminPassword: gw.adminPassword });
    expect((await findOrder(gw.gateway.db, orderNo))!.status).toBe('pending');
    await until(async () => (await findOrder(gw.gateway.db, orderNo))!.status !== 'pending', { timeoutMs: 20_000 });
    const order = (await findOrder(gw.gateway.db, orderNo))!;
    expect(order.status).toBe('expired');
    expect(order.expiredAt!).toBeGreaterThanOrEqual(expiresAt);
    expect(order.expiredAt! - expiresAt).toBeLessThan(5000);
  });
});

describe('upgrade (migration 100)', () => {
  it('gives pending orders and keys with a future expiry the outbox rows new ones get', async () => {
    const fresh = await freshDatabase();
    const db = await openDatabase(fresh.url);
    try {
      await migrate(db, { through: 81 });
      const now = Date.now();
      const user = await db.get<{ id: number }>(`INSERT INTO users (username, password_hash, aff_code, created_at) VALUES ('old', 'x', 'AFF1', ?) RETURNING id`, [now]);
      const uid = Number(user!.id);
      const key = (name: string, hash: string, expiresAt: number | null) =>
        db.get<{ id: number }>(`INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, expires_at, created_at) VALUES (?, ?, ?, 'h', 'default', ?, ?) RETURNING id`, [uid, name, hash, expiresAt, now]);
      const future = await key('say "hi"', 'h1', now + 3_600_000);
      await key('past', 'h2', now - 1000);
      await key('never', 'h3', null);
      const order = (no: string, status: string) =>
        db.run(`INSERT INTO payment_orders (order_no, user_id, provider, usd_cents, points, bonus_points, currency, pay_minor, rate, status, created_at, expires_at)
                VALUES (?, ?, 'transfer', 1000, 5000000, 0, 'CNY', 7250, '7.25', ?, ?, ?)`, [no, uid, status, now, now + 60_000]);
      await order('T1', 'pending');
      await order('T2', 'paid');
      await migrate(db);
      const rows = await db.all<{ kind: string; payload: string; dedupe_key: string; next_attempt_at: number }>('SELECT kind, payload, dedupe_key, next_attempt_at FROM outbox ORDER BY kind');
      expect(rows.map((r) => ({ ...r, payload: JSON.parse(r.payload), next_attempt_at: Number(r.next_attempt_at) }))).toEqual([
        {
          kind: 'notify.user',
          payload: { userId: uid, event: { type: 'key_expired', keyId: Number(future!.id), keyName: 'say "hi"', expiresAt: now + 3_600_000 } },
          dedupe_key: `alert:key_expired:${future!.id}:${now + 3_600_000}`,
          next_attempt_at: now + 3_600_000,
        },
        { kind: 'order.expire', payload: { orderNo: 'T1' }, dedupe_key: 'order.expire:T1', next_attempt_at: now + 60_000 },
      ]);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
