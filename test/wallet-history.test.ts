// One write per request: the usage-log row is the ledger's record of a charge (cost and balance after
// it); the wallet history shows usage as one line per UTC day beside the other entry kinds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { checkLedger } from '../src/ledger/entries.ts';
import { settle } from '../src/ledger/holds.ts';
import type { UsageLogRow } from '../src/logs/usage-log.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, freshDatabase, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let up: FakeOpenAI;
beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway();
  await addChannel(gw, { baseUrl: up.url, models: ['hist-model'] });
  await setPrice(gw, 'hist-model', { input: '2', output: '8' });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const DAY = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

async function ask(key: string, maxTokens: number): Promise<string> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'hist-model', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('x-moleapi-request-id')!;
}

const logRow = (requestId: string, userId: number, keyId: number, cost: number, createdAt: number): UsageLogRow => ({
  requestId, userId, keyId, keyName: 'test key', model: 'hist-model', group: 'default', channelId: null, channelName: null,
  promptTokens: 1, completionTokens: 1, cachedTokens: 0, cost, durationMs: 1, firstTokenMs: null, stream: false, status: 200,
  estimated: false, error: null, createdAt,
});

describe('one write per request', () => {
  it('a served request writes one usage-log row carrying the balance after it, and no ledger entry', async () => {
    const { userId, key } = await createUserWithKey(gw, { balance: 100_000 });
    const ids = [await ask(key, 8), await ask(key, 3), await ask(key, 5)];
    await gw.settled(); // on PostgreSQL the answer goes out before its settlement commits
    const db = gw.gateway.db;
    const rows = await db.all<{ request_id: string; cost: number; balance_after: number }>(
      'SELECT request_id, cost, balance_after FROM usage_logs WHERE user_id = ? ORDER BY id',
      [userId],
    );
    expect(rows.map((r) => r.request_id)).toEqual(ids);
    let balance = 100_000;
    for (const r of rows) {
      balance -= Number(r.cost);
      expect(Number(r.balance_after)).toBe(balance);
    }
    const user = await db.get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [userId]);
    expect(Number(user!.balance)).toBe(balance);
    const usageEntries = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM ledger_entries WHERE user_id = ? AND kind = 'usage'", [userId]);
    expect(Number(usageEntries!.n)).toBe(0);
    expect((await checkLedger(db)).mismatches).toEqual([]);
  });

  it('request ids are unique in the usage log (the charge\'s unique reference)', async () => {
    const { userId, keyId, key } = await createUserWithKey(gw, { balance: 100_000 });
    const id = await ask(key, 2);
    await gw.settled();
    await expect(
      gw.gateway.db.run(
        `INSERT INTO usage_logs (request_id, user_id, key_id, key_name, model, group_name, cost, duration_ms, stream, status, created_at, balance_after)
         VALUES (?, ?, ?, 'k', 'm', 'default', 1, 1, 0, 200, ?, 0)`,
        [id, userId, keyId, Date.now()],
      ),
    ).rejects.toThrow(/unique|duplicate/i);
  });
});

describe('wallet history', () => {
  it('shows usage as one line per UTC day, with its total, request count and closing balance, beside the other entries', async () => {
    const { userId, keyId, key, client } = await createUserWithKey(gw, { balance: 100_000 });
    // Two charges dated yesterday, settled through the real settlement path, then three served today.
    const yesterday = Date.now() - DAY;
    await settle(gw.gateway.db, { holdId: `hist-y1-${userId}`, userId, keyId, cost: 700, log: logRow(`hist-y1-${userId}`, userId, keyId, 700, yesterday) });
    await settle(gw.gateway.db, { holdId: `hist-y2-${userId}`, userId, keyId, cost: 300, log: logRow(`hist-y2-${userId}`, userId, keyId, 300, yesterday + 1) });
    const adjusted = await gw.admin.post(`/api/admin/users/${userId}/adjust`, { quota: 5000, reason: 'top-up' });
    expect(adjusted.status).toBe(201);
    for (const n of [8, 3, 5]) await ask(key, n);
    // A release (cost 0) is not a charge: it does not show.
    await settle(gw.gateway.db, { holdId: `hist-r-${userId}`, userId, keyId, cost: 0, log: { ...logRow(`hist-r-${userId}`, userId, keyId, 0, Date.now()), status: 502 } });

    const wallet = (await client.get('/api/wallet')).body;
    const today = await gw.gateway.db.get<{ total: number }>('SELECT SUM(cost) AS total FROM usage_logs WHERE user_id = ? AND created_at > ?', [userId, yesterday + 1]);
    const res = await client.get('/api/wallet/ledger?pageSize=50');
    expect(res.status).toBe(200);
    // trial, two adjustments (setup + top-up), two usage days; newest first (yesterday's line is oldest)
    expect(res.body.total).toBe(5);
    const [todayLine, topUp, setup, trial, yesterdayLine] = res.body.items;
    expect(todayLine).toEqual({
      id: null,
      kind: 'usage',
      amount: { quota: -Number(today!.total), usd: expect.any(String) },
      balanceAfter: wallet.balance,
      reference: `usage:${isoDay(Date.now())}`,
      createdAt: expect.any(String),
      note: '3 requests',
      day: isoDay(Date.now()),
      requests: 3,
    });
    expect(topUp).toMatchObject({ kind: 'adjustment', amount: { quota: 5000 } });
    expect(yesterdayLine).toMatchObject({ id: null, kind: 'usage', amount: { quota: -1000 }, day: isoDay(yesterday), requests: 2, note: '2 requests' });
    // settled (backdated) after the setup adjustment: its closing balance follows that one
    expect(yesterdayLine.balanceAfter.quota).toBe(setup.balanceAfter.quota - 1000);
    expect(setup).toMatchObject({ kind: 'adjustment' });
    expect(trial).toMatchObject({ kind: 'trial' });
    // The lines add up to the balance.
    expect(res.body.items.reduce((s: number, e: any) => s + e.amount.quota, 0)).toBe(wallet.balance.quota);

    const page2 = await client.get('/api/wallet/ledger?page=2&pageSize=2');
    expect(page2.body.items.map((e: any) => e.reference)).toEqual([setup.reference, trial.reference]);
    expect(page2.body.total).toBe(5);
    expect((await checkLedger(gw.gateway.db)).mismatches).toEqual([]);
  });
});

describe('moving an existing ledger to the new shape (migration 11)', () => {
  it('usage entries become their log rows\' balance_after, duplicates of free rows go, the books still balance', async () => {
    const fresh = await freshDatabase();
    const db = await openDatabase(fresh.url);
    try {
      await migrate(db, { through: 10 });
      // The old shape: a usage ledger entry beside each charged log row; a zero-cost row written twice.
      const u = await db.get<{ id: number }>(
        "INSERT INTO users (username, password_hash, aff_code, created_at, balance, used, request_count) VALUES ('old', 'x', 'a1', 0, 9000, 1000, 3) RETURNING id",
      );
      const userId = Number(u!.id);
      const k = await db.get<{ id: number }>(
        "INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at, used) VALUES (?, 'k', 'h', 'h', 'default', 0, 1000) RETURNING id",
        [userId],
      );
      const keyId = Number(k!.id);
      const entry = (kind: string, amount: number, after: number, ref: string) =>
        db.run('INSERT INTO ledger_entries (user_id, kind, amount, balance_after, reference, created_at) VALUES (?, ?, ?, ?, ?, 0)', [userId, kind, amount, after, ref]);
      const log = (rid: string, cost: number) =>
        db.run(
          "INSERT INTO usage_logs (request_id, user_id, key_id, key_name, model, group_name, cost, duration_ms, stream, status, created_at) VALUES (?, ?, ?, 'k', 'm', 'default', ?, 1, 0, 200, ?)",
          [rid, userId, keyId, cost, 1_700_000_000_000],
        );
      await entry('trial', 10_000, 10_000, 'trial:1');
      await entry('usage', -400, 9600, 'req:r1');
      await log('r1', 400);
      await entry('usage', -600, 9000, 'req:r2');
      await log('r2', 600);
      await log('r3', 0);
      await log('r3', 0);

      expect(await migrate(db)).toBeGreaterThanOrEqual(1);
      const rows = await db.all<{ request_id: string; balance_after: number | null }>('SELECT request_id, balance_after FROM usage_logs ORDER BY id');
      expect(rows.map((r) => [r.request_id, r.balance_after === null ? null : Number(r.balance_after)])).toEqual([
        ['r1', 9600],
        ['r2', 9000],
        ['r3', null],
      ]);
      const kinds = await db.all<{ kind: string }>('SELECT kind FROM ledger_entries ORDER BY id');
      expect(kinds.map((r) => r.kind)).toEqual(['trial']);
      expect((await checkLedger(db)).mismatches).toEqual([]);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
