// GET /api/wallet's summary: credits by origin, spend today / 7 / 30 days from usage-log costs (with an
// injected clock for the UTC-day edges), and the runway.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger, postEntry } from '../src/ledger/entries.ts';
import { USAGE_LOG_COLUMNS } from '../src/logs/usage-log.ts';
import { runwayDays, startOfUtcDay, walletSummary } from '../src/wallet/summary.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let up: FakeOpenAI;
const MODEL = 'summary-model';
const DAY = 86_400_000;

beforeAll(async () => {
  gw = await startGateway();
  up = await startFakeOpenAI();
  await addChannel(gw, { baseUrl: up.url, models: [MODEL], name: 'summary' });
  await setPrice(gw, MODEL, { input: '2', output: '8' }); // 1 point per prompt token, 4 per completion token
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** A usage-log row as the settlement writes it, at a chosen time (the summary reads only these rows). */
async function logRow(userId: number, cost: number, createdAt: number) {
  const values: Record<(typeof USAGE_LOG_COLUMNS)[number], unknown> = {
    request_id: `sum-${userId}-${createdAt}-${cost}`, user_id: userId, key_id: null, key_name: 'k', model: MODEL, group_name: 'default',
    channel_id: null, channel_name: null, prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0, cost, duration_ms: 1,
    first_token_ms: null, stream: 0, status: 200, estimated: 0, error: null, created_at: createdAt, balance_after: null,
  };
  // Charged like the settlement writer does (balance, used and the row in one transaction), so the
  // ledger still adds up for the checks that follow.
  await gw.gateway.db.tx(async (q) => {
    const u = await q.get<{ balance: number }>('UPDATE users SET balance = balance - ?, used = used + ? WHERE id = ? RETURNING balance', [cost, cost, userId]);
    values.balance_after = Number(u!.balance);
    await q.run(
      `INSERT INTO usage_logs (${USAGE_LOG_COLUMNS.join(', ')}) VALUES (${USAGE_LOG_COLUMNS.map(() => '?').join(', ')})`,
      USAGE_LOG_COLUMNS.map((c) => values[c]),
    );
  });
}

describe('walletSummary at an injected instant', () => {
  it('today is since 00:00 UTC; 7 and 30 days are the 7 / 30 × 24 h before now; later rows are ignored', async () => {
    const { userId } = await createUserWithKey(gw);
    const now = Date.UTC(2026, 10, 27, 10, 30); // 10:30 UTC
    const midnight = startOfUtcDay(now);
    expect(midnight).toBe(Date.UTC(2026, 10, 27));
    const rows: [number, number][] = [
      [1, now - 3600_000], // today
      [2, midnight], // today, at its first instant
      [4, midnight - 1], // yesterday: 7 and 30 days
      [8, now - 7 * DAY + 1], // inside 7 days
      [16, now - 7 * DAY], // just outside 7 days: 30 days only
      [32, now - 30 * DAY + 1], // inside 30 days
      [64, now - 30 * DAY], // outside
      [128, now + 1], // after `now`
    ];
    for (const [cost, at] of rows) await logRow(userId, cost, at);
    const s = await walletSummary(gw.gateway.db, userId, now);
    expect(s.spend).toEqual({ today: 1 + 2, last7Days: 1 + 2 + 4 + 8, last30Days: 1 + 2 + 4 + 8 + 16 + 32 });
    expect(s).toMatchObject({ trialCredit: 250_000, referralRewards: 0, totalToppedUp: 0 });
    // an hour later it is still the same UTC day (and the row at now + 1 ms has happened); at the next
    // midnight "today" starts again
    expect((await walletSummary(gw.gateway.db, userId, now + 3600_000)).spend.today).toBe(1 + 2 + 128);
    expect((await walletSummary(gw.gateway.db, userId, midnight + DAY)).spend.today).toBe(0);
  });

  it('totalToppedUp sums top-up credits only; other users do not count', async () => {
    const a = await createUserWithKey(gw);
    const b = await createUserWithKey(gw);
    await postEntry(gw.gateway.db, { userId: a.userId, kind: 'topup', amount: 5_000_000, reference: `topup:sum-a1-${a.userId}` });
    await postEntry(gw.gateway.db, { userId: a.userId, kind: 'topup', amount: 2_500_000, reference: `topup:sum-a2-${a.userId}` });
    await postEntry(gw.gateway.db, { userId: a.userId, kind: 'topup', amount: -1_000_000, reference: `refund:sum-a1-${a.userId}`, keepNonNegative: false });
    await postEntry(gw.gateway.db, { userId: b.userId, kind: 'topup', amount: 999, reference: `topup:sum-b-${b.userId}` });
    const s = await walletSummary(gw.gateway.db, a.userId);
    expect(s.totalToppedUp).toBe(7_500_000);
    expect(s.trialCredit).toBe(250_000);
    const w = (await a.client.get('/api/wallet')).body;
    expect(w.totalToppedUp).toEqual({ quota: 7_500_000, usd: '15.000000' });
    expect(w.balance.quota).toBe(250_000 + 7_500_000 - 1_000_000);
    expect((await checkLedger(gw.gateway.db)).mismatches).toEqual([]);
  });
});

describe('runwayDays', () => {
  it.each([
    [1000, 700, 10], // 100 a day
    [1, 3, 2.3], // 70/3 = 23.3 tenths, rounded down
    [999, 7000, 0.9],
    [0, 5, 0],
    [-10, 5, 0],
    [1000, 0, null],
    [5e12, 1, 3.5e13],
  ])('available %d, 7-day spend %d → %s', (available, spend, days) => {
    expect(runwayDays(available, spend)).toBe(days);
  });
});

describe('GET /api/wallet', () => {
  it('has trial credit, referral rewards, top-ups, spend and runway after real requests', async () => {
    const { client, key } = await createUserWithKey(gw);
    const fresh = (await client.get('/api/wallet')).body;
    expect(fresh).toMatchObject({
      trialCredit: { quota: 250_000, usd: '0.500000' },
      referralRewards: { quota: 0, usd: '0.000000' },
      totalToppedUp: { quota: 0, usd: '0.000000' },
      spend: { today: { quota: 0 }, last7Days: { quota: 0 }, last30Days: { quota: 0 } },
      runway: null,
    });
    const sdk = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    let cost = 0;
    for (const max of [5, 9]) {
      const r = await sdk.chat.completions.create({ model: MODEL, max_tokens: max, messages: [{ role: 'user', content: 'hi' }] });
      cost += r.usage!.prompt_tokens + 4 * r.usage!.completion_tokens;
    }
    const w = (await client.get('/api/wallet')).body;
    expect(w.spend.last7Days).toEqual({ quota: cost, usd: expect.any(String) });
    expect(w.spend.last30Days.quota).toBe(cost);
    expect(w.available.quota).toBe(250_000 - cost);
    // at cost/7 a day: (250000 − cost) × 7 / cost days, to one decimal, rounded down
    expect(w.runway).toBe(Math.floor(((250_000 - cost) * 70) / cost) / 10);
    expect(w.runway).toBeGreaterThan(0);
  });

  it('still answers the balance when the usage logs cannot be read: spend and runway are null', async () => {
    const { client } = await createUserWithKey(gw);
    const db = gw.gateway.db;
    await db.run('ALTER TABLE usage_logs RENAME TO usage_logs_away');
    try {
      const w = await client.get('/api/wallet');
      expect(w.status).toBe(200);
      expect(w.body).toMatchObject({ balance: { quota: 250_000 }, trialCredit: { quota: 250_000 }, spend: null, runway: null });
    } finally {
      await db.run('ALTER TABLE usage_logs_away RENAME TO usage_logs');
    }
    expect((await client.get('/api/wallet')).body.spend).toMatchObject({ today: { quota: 0 } });
  });
});
