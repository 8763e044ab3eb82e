// Holds under contention: 200 requests in flight at once against money that covers exactly 50 holds.
// Exactly 50 may run; the rest get 429 before reaching the upstream; the books must balance afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { readBody, type ApiClient } from './helpers/api.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { wallet } from './helpers/billing.ts';

const PARALLEL = 200;
const AFFORDABLE = 50;
const MAX_TOKENS = 8;
const COST = 10 * 1 + MAX_TOKENS * 4; // the fake's usage: 10 prompt + 8 completion tokens at $2/$8 per 1M

let gw: TestGateway;
let up: FakeOpenAI;
let seq = 0;

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A model whose upstream answers after 1.5 s, so all requests hold their reservation at the same time. */
async function delayedModel() {
  const model = `conc${process.pid}n${++seq}-delay1500`;
  await addChannel(gw, { baseUrl: up.url, models: [model], apiKey: 'sk-upstream-conc' });
  await setPrice(gw, model, { input: '2', output: '8' });
  return model;
}

/** The documented hold: cost(ceil(bodyBytes / 3) prompt tokens, max_tokens completion tokens). */
function holdFor(body: string) {
  const promptEstimate = Math.ceil(Buffer.byteLength(body) / 3);
  return Math.ceil(promptEstimate * 1 + MAX_TOKENS * 4);
}

function requestBody(model: string) {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Count to three, please.' }], max_tokens: MAX_TOKENS });
}

async function fire(key: string, body: string) {
  return Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      const res = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: await readBody(res) };
    }),
  );
}

async function settled(client: ApiClient, requestCount: number) {
  for (let i = 0; ; i++) {
    const w = await wallet(client);
    if ((w.held.quota === 0 && w.requestCount === requestCount) || i > 200) return w;
    await sleep(50);
  }
}

async function logRows(client: ApiClient, model: string, count: number): Promise<any[]> {
  for (let i = 0; ; i++) {
    const res = await client.get(`/api/logs?model=${encodeURIComponent(model)}&pageSize=200`);
    expect(res.status).toBe(200);
    if (res.body.items.length >= count || i > 200) return res.body.items;
    await sleep(50);
  }
}

async function ledger(client: ApiClient): Promise<any[]> {
  const res = await client.get('/api/wallet/ledger?pageSize=200');
  expect(res.status).toBe(200);
  return res.body.items;
}

function expectOutcome(results: Array<{ status: number; body: any }>) {
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 429);
  const other = results.filter((r) => r.status !== 200 && r.status !== 429);
  expect(other.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
  expect(ok).toHaveLength(AFFORDABLE);
  expect(refused).toHaveLength(PARALLEL - AFFORDABLE);
  for (const r of refused) expect(r.body?.error?.code).toBe('insufficient_quota');
  for (const r of ok) expect(r.body.choices[0].message.content).toBe('tok '.repeat(MAX_TOKENS));
}

describe('concurrent holds', () => {
  it(`${PARALLEL} parallel requests against a balance covering ${AFFORDABLE} holds`, { timeout: 90_000 }, async () => {
    const model = await delayedModel();
    const body = requestBody(model);
    const hold = holdFor(body);
    expect(hold).toBeGreaterThanOrEqual(COST); // sanity: the hold covers the real cost
    const start = AFFORDABLE * hold;
    const u = await createUserWithKey(gw, { username: `concu${process.pid}n${++seq}`, balance: start });
    const before = await wallet(u.client);
    expect(before.balance.quota).toBe(start);
    const upstreamBefore = up.requests.length;

    expectOutcome(await fire(u.key, body));
    // refused requests never reached the upstream
    expect(up.requests.length - upstreamBefore).toBe(AFFORDABLE);

    const after = await settled(u.client, before.requestCount + AFFORDABLE);
    expect(after.held.quota).toBe(0);
    expect(after.requestCount).toBe(before.requestCount + AFFORDABLE);

    const rows = await logRows(u.client, model, AFFORDABLE);
    expect(rows).toHaveLength(AFFORDABLE);
    const rowSum = rows.reduce((s, r) => s + r.cost.quota, 0);
    for (const r of rows) expect(r.cost.quota).toBe(COST);
    expect(rowSum).toBe(AFFORDABLE * COST);

    expect(after.balance.quota).toBeGreaterThanOrEqual(0);
    expect(after.balance.quota).toBe(start - rowSum);
    expect(after.used.quota - before.used.quota).toBe(rowSum);

    const entries = await ledger(u.client);
    const usage = entries.filter((e) => e.kind === 'usage');
    expect(usage.reduce((s, e) => s + e.amount.quota, 0)).toBe(-rowSum);
    // invariant: the sum of the user's ledger entries is their balance
    expect(entries.reduce((s, e) => s + e.amount.quota, 0)).toBe(after.balance.quota);
  });

  it(`${PARALLEL} parallel requests against a key quotaLimit covering ${AFFORDABLE} holds`, { timeout: 90_000 }, async () => {
    const model = await delayedModel();
    const body = requestBody(model);
    const limit = AFFORDABLE * holdFor(body);
    const u = await createUserWithKey(gw, { username: `concu${process.pid}n${++seq}`, balance: 1_000_000, key: { quotaLimit: limit } });
    const before = await wallet(u.client);
    const upstreamBefore = up.requests.length;

    expectOutcome(await fire(u.key, body));
    expect(up.requests.length - upstreamBefore).toBe(AFFORDABLE);

    const after = await settled(u.client, before.requestCount + AFFORDABLE);
    expect(after.held.quota).toBe(0);
    const rows = await logRows(u.client, model, AFFORDABLE);
    const rowSum = rows.reduce((s, r) => s + r.cost.quota, 0);
    expect(rowSum).toBe(AFFORDABLE * COST);
    expect(after.balance.quota).toBe(before.balance.quota - rowSum);

    const keys = await u.client.get('/api/keys');
    const key = keys.body.items.find((k: any) => k.id === u.keyId);
    expect(key.used.quota).toBe(rowSum);
    expect(key.used.quota).toBeLessThanOrEqual(limit);
  });
});
