// GET /api/usage/summary (the dashboard's figures): totals, every UTC day of the range, per model and
// per key, the latest errors; only the caller's rows; the UTC-day edges with an injected clock; the
// days parameter bounded; real requests through the relay counted exactly.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE_LOG_COLUMNS } from '../src/logs/usage-log.ts';
import { usageSummary } from '../src/logs/usage-summary.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let up: FakeOpenAI;
const MODEL = 'usage-summary-model';
const DAY = 86_400_000;

beforeAll(async () => {
  gw = await startGateway();
  up = await startFakeOpenAI();
  await addChannel(gw, { baseUrl: up.url, models: [MODEL], name: 'usage summary' });
  await setPrice(gw, MODEL, { input: '2', output: '8' }); // 1 point per prompt token, 4 per completion token
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

let seq = 0;
/** A usage-log row at a chosen time (the summary reads only these rows; the balance is not involved). */
async function logRow(userId: number, row: { cost: number; at: number; model?: string; keyId?: number | null; keyName?: string; status?: number; prompt?: number; completion?: number; error?: string }) {
  const values: Record<(typeof USAGE_LOG_COLUMNS)[number], unknown> = {
    request_id: `usage-summary-${userId}-${++seq}`, user_id: userId, key_id: row.keyId ?? null, key_name: row.keyName ?? 'k', model: row.model ?? MODEL,
    group_name: 'default', channel_id: null, channel_name: null, prompt_tokens: row.prompt ?? 0, completion_tokens: row.completion ?? 0, cached_tokens: 0,
    cost: row.cost, duration_ms: 1, first_token_ms: null, stream: 0, status: row.status ?? 200, estimated: 0, error: row.error ?? null, created_at: row.at, balance_after: null,
  };
  await gw.gateway.db.run(
    `INSERT INTO usage_logs (${USAGE_LOG_COLUMNS.join(', ')}) VALUES (${USAGE_LOG_COLUMNS.map(() => '?').join(', ')})`,
    USAGE_LOG_COLUMNS.map((c) => values[c]),
  );
}

describe('usageSummary at an injected instant', () => {
  it('groups by UTC day (every day present, oldest first), model and key; counts errors and tokens; ignores rows outside the range and other users', async () => {
    const { userId } = await createUserWithKey(gw);
    const other = await createUserWithKey(gw);
    const now = Date.UTC(2026, 10, 27, 10, 30);
    const midnight = Date.UTC(2026, 10, 27);
    await logRow(userId, { cost: 1, at: midnight, model: 'a', keyId: 7, keyName: 'web', prompt: 10, completion: 5 }); // today's first instant
    await logRow(userId, { cost: 2, at: now, model: 'b', keyId: 7, keyName: 'web', prompt: 1, completion: 1 });
    await logRow(userId, { cost: 0, at: now - 60_000, model: 'b', keyId: 8, keyName: 'ci', status: 502, error: 'upstream failed' });
    await logRow(userId, { cost: 4, at: midnight - 1, model: 'a', keyId: 8, keyName: 'ci' }); // yesterday's last instant
    await logRow(userId, { cost: 8, at: midnight - 2 * DAY, model: 'a', keyId: null, keyName: 'deleted key' }); // first day of a 3-day range
    await logRow(userId, { cost: 16, at: midnight - 2 * DAY - 1, model: 'a' }); // before the range
    await logRow(userId, { cost: 32, at: now + 1, model: 'a' }); // after now
    await logRow(other.userId, { cost: 64, at: now - 1, model: 'a' });

    const s = await usageSummary(gw.gateway.db, userId, 3, now);
    expect(s.from).toBe(midnight - 2 * DAY);
    expect(s.totals).toEqual({ cost: 15, requests: 5, errors: 1, promptTokens: 11, completionTokens: 6 });
    expect(s.byDay.map((d) => [d.day, d.cost, d.requests, d.errors])).toEqual([
      ['2026-11-25', 8, 1, 0],
      ['2026-11-26', 4, 1, 0],
      ['2026-11-27', 3, 3, 1],
    ]);
    expect(s.byModel.map((m) => [m.model, m.cost, m.requests])).toEqual([
      ['a', 13, 3],
      ['b', 2, 2],
    ]);
    expect(s.byKey.map((k) => [k.keyId, k.keyName, k.cost, k.requests])).toEqual([
      [null, 'deleted key', 8, 1],
      [8, 'ci', 4, 2],
      [7, 'web', 3, 2],
    ]);
    expect(s.recentErrors).toEqual([{ id: expect.any(Number), createdAt: now - 60_000, model: 'b', keyName: 'ci', status: 502, error: 'upstream failed' }]);

    // A day without usage is a zero line, not a gap.
    const week = await usageSummary(gw.gateway.db, userId, 7, now);
    expect(week.byDay).toHaveLength(7);
    expect(week.byDay[0]).toEqual({ day: '2026-11-21', cost: 0, requests: 0, errors: 0, promptTokens: 0, completionTokens: 0 });
    expect(week.totals.cost).toBe(15 + 16);
  });
});

describe('GET /api/usage/summary', () => {
  it('counts real requests through the relay exactly, as integer points', async () => {
    const { client, key, keyId } = await createUserWithKey(gw);
    const sdk = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    let cost = 0;
    let prompt = 0;
    let completion = 0;
    for (const max of [5, 9]) {
      const r = await sdk.chat.completions.create({ model: MODEL, max_tokens: max, messages: [{ role: 'user', content: 'hi' }] });
      cost += r.usage!.prompt_tokens + 4 * r.usage!.completion_tokens;
      prompt += r.usage!.prompt_tokens;
      completion += r.usage!.completion_tokens;
    }
    const res = await client.get('/api/usage/summary?days=7');
    expect(res.status).toBe(200);
    const s = res.body;
    expect(s.days).toBe(7);
    expect(s.totals).toEqual({ cost: { quota: cost, usd: (cost / 500_000).toFixed(6) }, requests: 2, errors: 0, promptTokens: prompt, completionTokens: completion });
    expect(s.byDay).toHaveLength(7);
    expect(s.byDay[6].day).toBe(new Date().toISOString().slice(0, 10));
    expect(s.byDay[6].cost.quota).toBe(cost);
    expect(s.byModel).toEqual([expect.objectContaining({ model: MODEL, requests: 2, cost: expect.objectContaining({ quota: cost }) })]);
    expect(s.byKey).toEqual([expect.objectContaining({ keyId, keyName: 'test key', requests: 2 })]);
    expect(s.recentErrors).toEqual([]);
    // The default range is 30 days.
    expect((await client.get('/api/usage/summary')).body.byDay).toHaveLength(30);
    // The wallet's own 7-day figure agrees.
    expect((await client.get('/api/wallet')).body.spend.last7Days.quota).toBe(cost);
  });

  it('refuses a days value outside 1–90 naming the parameter, and needs a session', async () => {
    const { client } = await createUserWithKey(gw);
    for (const bad of ['0', '91', '1.5', 'week', '99999999999999999999']) {
      const res = await client.get(`/api/usage/summary?days=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.issues[0].path).toEqual(['days']);
    }
    expect((await new ApiClient(gw.url).get('/api/usage/summary')).status).toBe(401);
  });
});
