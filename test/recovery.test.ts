// Crash recovery of holds, and cache invalidation across instances (PostgreSQL + Redis).
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Queryable } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { heartbeat, releaseStaleHolds } from '../src/ledger/stale-holds.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, freshDatabase, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

/** Simulates a request in flight on another process: a hold row (what is held is the sum of the rows). */
async function strandHold(gw: TestGateway, userId: number, keyId: number, instanceId: string, amount: number) {
  const id = `stranded-${instanceId}-${Date.now()}-${amount}`;
  await gw.gateway.db.run('INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at) VALUES (?, ?, ?, ?, ?, ?)', [id, userId, keyId, amount, instanceId, Date.now()]);
}

const heldRows = async (db: Queryable, column: 'user_id' | 'key_id', id: number) =>
  Number((await db.get<{ held: number }>(`SELECT COALESCE(SUM(amount), 0) AS held FROM holds WHERE ${column} = ?`, [id]))!.held);

describe('stale holds', () => {
  it('holds of a process that stopped heart-beating are released; a live instance keeps its own', async () => {
    const gw = await startGateway();
    try {
      const { client, userId, keyId } = await createUserWithKey(gw, { balance: 100_000 });
      await heartbeat(gw.gateway.db, 'live-peer');
      await strandHold(gw, userId, keyId, 'dead-peer', 7000);
      await strandHold(gw, userId, keyId, 'live-peer', 3000);
      expect((await client.get('/api/wallet')).body.held.quota).toBe(10_000);

      expect(await releaseStaleHolds(gw.gateway.db, gw.gateway.instanceId, false)).toBe(1);
      const w = (await client.get('/api/wallet')).body;
      expect(w.held.quota).toBe(3000);
      expect(w.available.quota).toBe(97_000);
      expect(w.balance.quota).toBe(100_000); // a release moves no money
    } finally {
      await gw.close();
    }
  });

  it('a restart releases holds left by the crashed process, and requests work again', async () => {
    const first = await startGateway();
    const { userId, keyId, key } = await createUserWithKey(first, { balance: 5000 });
    await addChannel(first, { baseUrl: fake.url, models: ['recover-model'] });
    await setPrice(first, 'recover-model', { input: '2', output: '8' });
    // The whole balance is stuck in a hold of a process that died mid-request.
    await strandHold(first, userId, keyId, 'crashed-process', 5000);
    const sdk = (gw: TestGateway) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    await expect(sdk(first).chat.completions.create({ model: 'recover-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 })).rejects.toMatchObject({ status: 429 });
    await first.close({ keepDatabase: true });

    const second = await startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword });
    try {
      const reply = await sdk(second).chat.completions.create({ model: 'recover-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
      expect(reply.choices[0]!.message.content).toContain('tok');
      await second.settled();
      expect(await heldRows(second.gateway.db, 'user_id', userId)).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('held can never go below zero: no hold row has a negative amount (CHECK, triggers on SQLite)', async () => {
    const gw = await startGateway();
    try {
      const { userId, keyId } = await createUserWithKey(gw, { balance: 1000 });
      await expect(strandHold(gw, userId, keyId, 'x', -1)).rejects.toThrow(/check/i);
      await strandHold(gw, userId, keyId, 'x', 1);
      await expect(gw.gateway.db.run('UPDATE holds SET amount = -1 WHERE user_id = ?', [userId])).rejects.toThrow(/check/i);
    } finally {
      await gw.close();
    }
  });
});

describe('migration 10 on a database the old sweeper drove negative', () => {
  it('recomputes a negative held from the live hold rows, then refuses negative held', async () => {
    const fresh = await freshDatabase();
    const db = await openDatabase(fresh.url);
    try {
      await migrate(db, { through: 1 });
      await db.run("INSERT INTO users (id, username, password_hash, aff_code, created_at, balance, held) VALUES (1, 'a', 'x', 'a', 0, 1000, -63918)");
      await db.run("INSERT INTO users (id, username, password_hash, aff_code, created_at, balance, held) VALUES (2, 'b', 'x', 'b', 0, 1000, 40)");
      await db.run("INSERT INTO api_keys (id, user_id, name, key_hash, key_hint, group_name, created_at, held) VALUES (1, 1, 'k', 'h', 'h', 'default', 0, -5)");
      await db.run("INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at) VALUES ('live', 1, 1, 70, 'i', 0)");
      await migrate(db, { through: 11 });
      const users = await db.all<{ id: number; held: number }>('SELECT id, held FROM users ORDER BY id');
      expect(users.map((u) => [Number(u.id), Number(u.held)])).toEqual([
        [1, 70],
        [2, 40], // not negative: left alone
      ]);
      const key = await db.get<{ held: number }>('SELECT held FROM api_keys WHERE id = 1');
      expect(Number(key!.held)).toBe(70);
      await expect(db.run('UPDATE users SET held = -1 WHERE id = 2')).rejects.toThrow(/check/i);
      // Migration 12: what is held becomes the sum of the live hold rows; the columns go, the row stays.
      await migrate(db);
      await expect(db.get('SELECT held FROM users WHERE id = 1')).rejects.toThrow(/held/);
      expect(await heldRows(db, 'user_id', 1)).toBe(70);
      expect(await heldRows(db, 'key_id', 1)).toBe(70);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('stale holds on PostgreSQL', () => {
  it('two instances sweeping one dead instance\'s holds at once release each hold exactly once', async () => {
    const gw = await startGateway();
    const other = await openDatabase(gw.databaseUrl); // a second instance: its own connection pool
    try {
      const { client, userId, keyId } = await createUserWithKey(gw, { balance: 100_000 });
      for (let i = 0; i < 60; i++) await strandHold(gw, userId, keyId, `dead-peer-${i % 3}`, 100 + i);
      const total = 60 * 100 + (59 * 60) / 2;
      expect((await client.get('/api/wallet')).body.held.quota).toBe(total);

      const released = await Promise.all([releaseStaleHolds(gw.gateway.db, 'sweeper-a', false), releaseStaleHolds(other, 'sweeper-b', false)]);
      expect(released[0] + released[1]).toBe(60);
      expect(await heldRows(other, 'user_id', userId)).toBe(0);
      expect(await heldRows(other, 'key_id', keyId)).toBe(0);
      expect((await client.get('/api/wallet')).body.available.quota).toBe(100_000);
    } finally {
      await other.close();
      await gw.close();
    }
  });
});

const shared = process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL;

describe.runIf(shared)('two instances on one PostgreSQL database, invalidated over Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startGateway();
    b = await startGateway({ databaseUrl: a.databaseUrl, adminPassword: a.adminPassword });
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  it('a channel and price added on one instance serve at once on the other; a key disabled on one is refused by the other', async () => {
    const { client, key, keyId } = await createUserWithKey(a, { balance: 1_000_000 });
    await addChannel(a, { baseUrl: fake.url, models: ['shared-model'] });
    await setPrice(a, 'shared-model', { input: '2', output: '8' });
    const onB = new OpenAI({ apiKey: key, baseURL: `${b.url}/v1`, maxRetries: 0 });
    const ask = () => onB.chat.completions.create({ model: 'shared-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });

    await expect(ask()).resolves.toMatchObject({ object: 'chat.completion' }); // B cached the key now
    expect((await client.patch(`/api/keys/${keyId}`, { enabled: false })).status).toBe(200);
    // Without the Redis message B would serve the cached key for up to 30 s.
    let status = 0;
    for (let i = 0; i < 40 && status !== 401; i++) {
      status = await ask().then(() => 200, (e) => e.status);
      if (status !== 401) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
  });
});
