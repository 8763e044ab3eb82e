// Several gateway instances on one PostgreSQL database (PostgreSQL only): a change made on one is
// seen by the other, over LISTEN/NOTIFY when no Redis is configured and over Redis when it is.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
// Both instances must use one secret key to read each other's channel keys.
const SECRET = 'multi-instance-test-secret-key-0123456789';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const uniqueModel = (tag: string) => `mi${process.pid}n${++seq}-${tag}`;
const sdk = (gw: TestGateway, key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
// Waits for the settlement too: the test reads the charge through the other instance.
const ask = async (gw: TestGateway, key: string, model: string) => {
  const answer = await sdk(gw, key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
  await gw.settled();
  return answer;
};
const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: { status?: number }) => e.status ?? 0);

/** Polls until `done(value)` or 10 s have passed (well under the key cache's 30 s); returns the last value (the caller asserts on it). */
async function within10s<T>(probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let v = await probe();
  while (!done(v) && Date.now() < deadline) {
    await sleep(25);
    v = await probe();
  }
  return v;
}

const buses = [
  { name: 'LISTEN/NOTIFY (no REDIS_URL)', kind: 'postgres', env: { REDIS_URL: undefined, MOLEAPI_SECRET_KEY: SECRET } },
  ...(process.env.TEST_REDIS_URL ? [{ name: 'Redis', kind: 'redis', env: { REDIS_URL: process.env.TEST_REDIS_URL, MOLEAPI_SECRET_KEY: SECRET } }] : []),
];

describe.runIf(onPostgres).each(buses)('two instances on one PostgreSQL database, invalidated over $name', ({ kind, env }) => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startGateway({ env });
    b = await startGateway({ databaseUrl: a.databaseUrl, adminPassword: a.adminPassword, env });
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  it(`both instances use the ${kind} bus`, () => {
    expect(a.gateway.bus.kind).toBe(kind);
    expect(b.gateway.bus.kind).toBe(kind);
  });

  it('a price raised on A is charged at the new price on B', async () => {
    const model = uniqueModel('price');
    await addChannel(a, { baseUrl: fake.url, models: [model] });
    await setPrice(a, model, { input: '2', output: '8' });
    const { client, key } = await createUserWithKey(a, { balance: 1_000_000 });
    const bAdmin = new ApiClient(b.url);
    await bAdmin.login('admin', a.adminPassword);
    const priceOnB = async () => (await bAdmin.get('/api/admin/prices')).body.items.find((p: { model: string }) => p.model === model);
    expect((await within10s(priceOnB, (p) => p !== undefined))?.input).toBe('2');
    await ask(b, key, model); // B has served at the old price: 10 prompt + 4 completion tokens = 10 + 16 points

    const raised = await a.admin.put(`/api/admin/prices/${model}`, { input: '20', output: '80' });
    expect(raised.status).toBe(200);
    expect(await within10s(priceOnB, (p) => p?.input === '20')).toEqual(raised.body);
    const before = (await client.get('/api/wallet')).body.balance.quota;
    await ask(b, key, model);
    expect((await client.get('/api/wallet')).body.balance.quota).toBe(before - 260); // 10 × 20 / 2 + 4 × 80 / 2
    const logs = (await client.get(`/api/logs?model=${model}`)).body.items;
    expect(logs.map((l: { cost: { quota: number } }) => l.cost.quota)).toEqual([260, 26]);
  });

  it('a user disabled on A is refused on B', async () => {
    const model = uniqueModel('disable');
    await addChannel(a, { baseUrl: fake.url, models: [model] });
    await setPrice(a, model, { input: '2', output: '8' });
    const { key, userId } = await createUserWithKey(a, { balance: 1_000_000 });
    expect(await within10s(() => statusOf(ask(b, key, model)), (s) => s === 200)).toBe(200); // B has the key cached now

    expect((await a.admin.patch(`/api/admin/users/${userId}`, { enabled: false })).status).toBe(200);
    // Without the message B would serve the cached key for up to 30 s.
    expect(await within10s(() => statusOf(ask(b, key, model)), (s) => s === 401)).toBe(401);
  });

  it('a channel added on A serves on B', async () => {
    const model = uniqueModel('channel');
    await setPrice(a, model, { input: '2', output: '8' });
    const { key } = await createUserWithKey(a, { balance: 1_000_000 });
    expect(await statusOf(ask(b, key, model))).toBe(404); // no channel yet: model_not_found

    await addChannel(a, { baseUrl: fake.url, models: [model] });
    const listed = () => sdk(b, key).models.list().then((page) => page.data.map((m) => m.id));
    expect(await within10s(listed, (ids) => ids.includes(model))).toContain(model);
    const reply = await ask(b, key, model);
    expect(reply.choices[0]!.message.content).toBe('tok tok tok tok ');
  });

  it.runIf(kind === 'postgres')('after the listening connection is lost, B reconnects and catches up on what it missed', async () => {
    const model = uniqueModel('reconnect');
    await addChannel(a, { baseUrl: fake.url, models: [model] });
    await setPrice(a, model, { input: '2', output: '8' });
    const bAdmin = new ApiClient(b.url);
    await bAdmin.login('admin', a.adminPassword);
    const inputOnB = async () => (await bAdmin.get('/api/admin/prices')).body.items.find((p: { model: string }) => p.model === model)?.input;
    expect(await within10s(inputOnB, (v) => v === '2')).toBe('2');

    const listeners = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN moleapi_invalidate'`;
    expect(await a.gateway.db.all(listeners)).toHaveLength(2);
    await a.gateway.db.all(`SELECT pg_terminate_backend(pid) FROM (${listeners}) l`);
    // Sent while nobody listens: lost, so B must reload everything once it is back.
    expect((await a.admin.put(`/api/admin/prices/${model}`, { input: '3', output: '8' })).status).toBe(200);
    expect(await within10s(inputOnB, (v) => v === '3')).toBe('3');
    // And it listens again.
    expect(await within10s(() => a.gateway.db.all(listeners), (rows) => rows.length === 2)).toHaveLength(2);
    expect((await a.admin.put(`/api/admin/prices/${model}`, { input: '4', output: '8' })).status).toBe(200);
    expect(await within10s(inputOnB, (v) => v === '4')).toBe('4');
  });
});
