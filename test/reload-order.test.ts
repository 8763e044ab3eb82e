// Cache reloads that finish out of order (PostgreSQL only): a reload that read the database before a
// change and finishes late never overwrites a newer one. It is made late by a real network delay: the
// gateway reaches PostgreSQL through a proxy that holds back the answer to one query.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, freshDatabase, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startPgProxy } from './helpers/pg-proxy.ts';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
// The setup instance and the one under test must read each other's sealed channel keys.
const SECRET = 'reload-order-test-secret-key-0123456789';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
});

let seq = 0;
const uniqueModel = (tag: string) => `ro${process.pid}n${++seq}-${tag}`;
const ask = (gw: TestGateway, key: string, model: string) =>
  new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: { status?: number }) => e.status ?? 0);

describe.runIf(onPostgres)('cache reloads finishing out of order', () => {
  // The instance under test reaches PostgreSQL through a proxy that can hold back one answer. Setup
  // is done beforehand by another instance, so no reload of the instance under test is in flight.
  const env = { REDIS_URL: undefined, MOLEAPI_SECRET_KEY: SECRET };
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let proxy: Awaited<ReturnType<typeof startPgProxy>>;
  let setup: TestGateway;
  beforeAll(async () => {
    db = await freshDatabase();
    proxy = await startPgProxy(db.url);
    setup = await startGateway({ databaseUrl: db.url, env });
  });
  afterAll(async () => {
    await setup?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('a channel reload that read before a new channel was added does not hide it', async () => {
    const [old, added] = [uniqueModel('old'), uniqueModel('added')];
    const oldId = await addChannel(setup, { baseUrl: fake.url, models: [old] });
    await setPrice(setup, added, { input: '2', output: '8' });
    const { key } = await createUserWithKey(setup, { balance: 1_000_000 });
    const gw = await startGateway({ databaseUrl: proxy.url, adminPassword: setup.adminPassword, env });
    try {
      // First reload: the one the bus message of a price change starts in the background (as in the
      // CI failure); its answer, read before the new channel exists, is held back.
      const held = proxy.holdAnswer('FROM channels ORDER BY id');
      expect((await gw.admin.put(`/api/admin/prices/${old}`, { input: '2', output: '8' })).status).toBe(200);
      const release = await held;
      // Reloads started after the new channel was committed apply first.
      const addedId = await addChannel(gw, { baseUrl: fake.url, models: [added] });
      await proxy.idle();
      // Then the first one's answer arrives; idle() lets the gateway's event loop read it.
      release();
      await proxy.idle();

      const ids = (await gw.admin.get('/api/admin/channels')).body.items.map((c: { id: number }) => c.id);
      expect(ids).toEqual([oldId, addedId]);
      expect((await ask(gw, key, added)).choices[0]!.message.content).toBe('tok tok tok tok ');
    } finally {
      await gw.close({ keepDatabase: true });
    }
  });

  it('a key read that started before the user was disabled is not cached', async () => {
    const model = uniqueModel('keyread');
    await addChannel(setup, { baseUrl: fake.url, models: [model] });
    await setPrice(setup, model, { input: '2', output: '8' });
    const { key, userId } = await createUserWithKey(setup, { balance: 1_000_000 });
    const gw = await startGateway({ databaseUrl: proxy.url, adminPassword: setup.adminPassword, env });
    try {
      const held = proxy.holdAnswer('u.enabled AS user_enabled');
      const inFlight = statusOf(ask(gw, key, model)); // its key lookup reads "enabled" and is held
      const release = await held;
      expect((await gw.admin.patch(`/api/admin/users/${userId}`, { enabled: false })).status).toBe(200);
      release();
      expect(await inFlight).toBe(200); // authorized before the change: served
      expect(await statusOf(ask(gw, key, model))).toBe(401);
    } finally {
      await gw.close({ keepDatabase: true });
    }
  });
});
