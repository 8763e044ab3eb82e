// A served request's charge survives a database that refuses the settlement: it is retried until it
// commits, and what is still owed at shutdown is kept on disk and applied at the next start.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/index.ts';
import { checkLedger } from '../src/ledger/entries.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { startCutProxy } from './fakes/pg-cut-proxy.ts';
import { addChannel, createUserWithKey, freshDatabase, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { until } from './helpers/poll.ts';

const MODEL = 'owed-delay0';
let fake: FakeOpenAI;
let dataDir: string;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  dataDir = mkdtempSync(join(tmpdir(), 'moleapi-owed-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// A real refusal by the database: the table the settlement writes to is gone until restored.
const breakLogs = (db: Database) => db.run('ALTER TABLE usage_logs RENAME TO usage_logs_away');
const restoreLogs = (db: Database) => db.run('ALTER TABLE usage_logs_away RENAME TO usage_logs');

async function setup(gw: TestGateway) {
  await addChannel(gw, { baseUrl: fake.url, models: [MODEL] });
  await setPrice(gw, MODEL, { input: '2', output: '8' });
  const user = await createUserWithKey(gw, { balance: 1_000_000 });
  const sdk = new OpenAI({ apiKey: user.key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  return { ...user, sdk };
}

const ask = (sdk: OpenAI) => sdk.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }).withResponse();

async function logRows(db: Database, requestId: string): Promise<{ cost: number }[]> {
  return (await db.all<{ cost: number }>('SELECT cost FROM usage_logs WHERE request_id = ?', [requestId])).map((r) => ({ cost: Number(r.cost) }));
}

describe('settlements the database refuses', () => {
  it('the caller still gets the answer; the charge stays held, is retried, and commits once the database accepts it', async () => {
    const gw = await startGateway({ env: { DATA_DIR: dataDir } });
    try {
      const { sdk, client } = await setup(gw);
      const db = gw.gateway.db;
      await breakLogs(db);
      const { data, response } = await ask(sdk);
      expect(data.choices[0]!.message.content).toBeTruthy();
      const requestId = response.headers.get('x-moleapi-request-id')!;

      // Not charged yet, but the points stay reserved so they cannot be spent twice.
      const before = (await client.get('/api/wallet')).body;
      expect(before.balance.quota).toBe(1_000_000);
      expect(before.held.quota).toBeGreaterThan(0);

      await restoreLogs(db);
      await until(async () => (await logRows(db, requestId)).length === 1);
      const [row] = await logRows(db, requestId);
      expect(row!.cost).toBeGreaterThan(0);
      const after = (await client.get('/api/wallet')).body;
      expect(after.balance.quota).toBe(1_000_000 - row!.cost);
      expect(after.held.quota).toBe(0);
      expect((await checkLedger(db)).mismatches).toEqual([]);
    } finally {
      await gw.close();
    }
  });

  it('a retried settlement that had already landed (its usage-log row exists) releases its hold instead of failing forever', async () => {
    const gw = await startGateway({ env: { DATA_DIR: dataDir } });
    try {
      const { sdk, client, userId, keyId } = await setup(gw);
      const db = gw.gateway.db;
      await breakLogs(db);
      const { response } = await ask(sdk);
      const requestId = response.headers.get('x-moleapi-request-id')!;
      expect((await client.get('/api/wallet')).body.held.quota).toBeGreaterThan(0);

      // The charge commits behind the writer's back, as a COMMIT does when it succeeds but the driver
      // reports an error: the balance moved and the request's usage-log row (its unique record) is there.
      await db.tx(async (q) => {
        const u = await q.get<{ balance: number }>(
          'UPDATE users SET balance = balance - 1234, used = used + 1234, request_count = request_count + 1 WHERE id = ? RETURNING balance',
          [userId],
        );
        await q.run('UPDATE api_keys SET used = used + 1234, request_count = request_count + 1 WHERE id = ?', [keyId]);
        await q.run(
          `INSERT INTO usage_logs_away (request_id, user_id, key_id, key_name, model, group_name, cost, duration_ms, stream, status, created_at, balance_after)
           VALUES (?, ?, ?, 'test key', ?, 'default', 1234, 1, 0, 200, ?, ?)`,
          [requestId, userId, keyId, MODEL, Date.now(), Number(u!.balance)],
        );
      });
      await restoreLogs(db);

      // The retry finds the request's row: applied already, so the hold goes and nothing is charged twice.
      await until(async () => (await client.get('/api/wallet')).body.held.quota === 0);
      const w = (await client.get('/api/wallet')).body;
      expect(w.balance.quota).toBe(1_000_000 - 1234);
      expect(w.available.quota).toBe(1_000_000 - 1234);
      expect(await logRows(db, requestId)).toEqual([{ cost: 1234 }]); // the landed one, not a second
      expect((await checkLedger(db)).mismatches).toEqual([]);
    } finally {
      await gw.close();
    }
    // Nothing is left owed: the shutdown kept no file.
    expect(existsSync(join(dataDir, 'unsettled.jsonl'))).toBe(false);
  });

  it('what is still owed at shutdown is kept on disk and applied exactly once at the next start', async () => {
    const first = await startGateway({ env: { DATA_DIR: dataDir } });
    const { sdk, userId } = await setup(first);
    await breakLogs(first.gateway.db);
    const { response } = await ask(sdk);
    const requestId = response.headers.get('x-moleapi-request-id')!;
    await first.close({ keepDatabase: true });

    const file = join(dataDir, 'unsettled.jsonl');
    const kept = readFileSync(file, 'utf8').trim().split('\n');
    expect(kept).toHaveLength(1);
    expect(JSON.parse(kept[0]!).log.requestId).toBe(requestId);

    const db = await openDatabase(first.databaseUrl);
    await restoreLogs(db);
    await db.close();

    const second = await startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword, env: { DATA_DIR: dataDir } });
    try {
      expect(existsSync(file)).toBe(false);
      const rows = await logRows(second.gateway.db, requestId);
      expect(rows).toHaveLength(1);
      const user = await second.gateway.db.get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [userId]);
      expect(Number(user!.balance)).toBe(1_000_000 - rows[0]!.cost);

      // The same line again (a crash after applying it, before the file was removed): skipped.
      writeFileSync(file, kept[0] + '\n');
    } finally {
      await second.close({ keepDatabase: true });
    }
    const third = await startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword, env: { DATA_DIR: dataDir } });
    try {
      expect(existsSync(file)).toBe(false);
      expect(await logRows(third.gateway.db, requestId)).toHaveLength(1);
      const user = await third.gateway.db.get<{ balance: number; held: number }>('SELECT balance, (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE user_id = users.id) AS held FROM users WHERE id = ?', [userId]);
      expect(Number(user!.balance)).toBe(1_000_000 - (await logRows(third.gateway.db, requestId))[0]!.cost);
      expect(Number(user!.held)).toBe(0);
      expect((await checkLedger(third.gateway.db)).mismatches).toEqual([]);
    } finally {
      await third.close();
    }
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('an ambiguous COMMIT on PostgreSQL', () => {
  it('a settlement whose COMMIT succeeded while the connection died is not retried forever nor kept as owed', async () => {
    const fresh = await freshDatabase();
    const proxy = await startCutProxy(fresh.url);
    const dir = mkdtempSync(join(tmpdir(), 'moleapi-cut-'));
    const gw = await startGateway({ databaseUrl: proxy.url, env: { DATA_DIR: dir } });
    try {
      const { sdk, client } = await setup(gw);
      proxy.armFor('INSERT INTO usage_logs');
      const { data, response } = await ask(sdk);
      expect(data.choices[0]!.message.content).toBeTruthy();
      const requestId = response.headers.get('x-moleapi-request-id')!;
      await gw.settled();
      expect(proxy.cuts).toBe(1);

      // The charge landed exactly once, hold included.
      const [row] = await logRows(gw.gateway.db, requestId);
      expect(row!.cost).toBeGreaterThan(0);
      const w = (await client.get('/api/wallet')).body;
      expect(w.balance.quota).toBe(1_000_000 - row!.cost);
      expect(w.held.quota).toBe(0);
    } finally {
      await gw.close({ keepDatabase: true });
      await proxy.close();
    }
    try {
      // The writer saw it applied: nothing was owed at shutdown, so nothing was kept for the next start.
      expect(existsSync(join(dir, 'unsettled.jsonl'))).toBe(false);
      const db = await openDatabase(fresh.url);
      try {
        expect((await checkLedger(db)).mismatches).toEqual([]);
        const n = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM usage_logs WHERE cost > 0');
        expect(Number(n!.n)).toBe(1);
      } finally {
        await db.close();
      }
    } finally {
      await fresh.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
