// PostgreSQL: an answer goes out once its settlement is in the instance's settlement journal, before
// the commit. A gateway killed (kill -9) after answering and before committing, or while the database
// refuses its settlements, charges every answered request exactly once after it restarts; replaying a
// journal twice charges nothing twice; SIGTERM commits what is journaled before exiting. The replay of
// a stopped instance's journal, and the lock that keeps a live one's, are checked on both databases.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/index.ts';
import { checkLedger } from '../src/ledger/entries.ts';
import { JOURNAL_DIR, SettlementJournal } from '../src/ledger/settlement-journal.ts';
import type { Settlement } from '../src/ledger/settlement-sql.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { ApiClient } from './helpers/api.ts';
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.ts';
import { createUserWithKey, freshDatabase, startGateway } from './helpers/gateway.ts';
import { startPgProxy, type PgProxy } from './helpers/pg-proxy.ts';
import { until } from './helpers/poll.ts';

const MODEL = 'journal-model';
const START = 1_000_000;
// 10 prompt tokens at $2/M and 8 completion tokens at $8/M, in points (500,000 per $).
const COST = 10 * 1 + 8 * 4;
// The settlement statement (settlement-pg.ts): holding or cutting it keeps the commit from happening.
const SETTLE_MARKER = 'INSERT INTO usage_logs';

let fake: FakeOpenAI;
const running = new Set<GatewayProcess>();
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  for (const gw of running) gw.child.kill('SIGKILL');
  await Promise.all([...running].map((gw) => gw.exited));
  await fake.close();
});

async function start(databaseUrl: string, dataDir: string) {
  const gw = await startGatewayProcess({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  running.add(gw);
  void gw.exited.then(() => running.delete(gw));
  return gw;
}

async function stop(gw: GatewayProcess, signal: 'SIGTERM' | 'SIGKILL') {
  gw.child.kill(signal);
  return gw.exited;
}

/** A channel, a price and a user with START points and a key, set up through the admin API. */
async function setup(url: string) {
  const admin = new ApiClient(url);
  await admin.login('admin', 'admin-password-1');
  expect((await admin.post('/api/admin/channels', { name: `ch${Date.now()}`, type: 'openai', baseUrl: fake.url, apiKey: 'sk-up', models: [MODEL] })).status).toBe(201);
  expect((await admin.put(`/api/admin/prices/${MODEL}`, { input: '2', output: '8' })).status).toBe(200);
  await admin.patch('/api/admin/settings', { registrationsPerIpPerHour: 0, trialQuota: 0 });
  const user = new ApiClient(url);
  const name = `journal${Date.now()}`;
  const reg = await user.post('/api/auth/register', { username: name, password: 'password-123' });
  expect(reg.status).toBe(201);
  const userId: number = reg.body.user.id;
  await user.login(name, 'password-123');
  const have: number = (await user.get('/api/wallet')).body.balance.quota;
  expect((await admin.post(`/api/admin/users/${userId}/adjust`, { quota: START - have, reason: 'test credit' })).status).toBe(201);
  const key: string = (await user.post('/api/keys', { name: 'k' })).body.key;
  return { userId, key };
}

/** n requests at once; each must be answered (with the journal they do not wait for the commit). */
async function ask(url: string, key: string, n: number): Promise<string[]> {
  const sdk = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20_000 });
  const answers = await Promise.all(
    Array.from({ length: n }, () => sdk.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }).withResponse()),
  );
  for (const a of answers) expect(a.data.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 8 });
  return answers.map((a) => a.response.headers.get('x-moleapi-request-id')!);
}

async function charged(db: Database, userId: number) {
  const logs = await db.all<{ request_id: string; cost: number }>('SELECT request_id, cost FROM usage_logs WHERE user_id = ? ORDER BY request_id', [userId]);
  const u = await db.get<{ balance: number; used: number; request_count: number }>('SELECT balance, used, request_count FROM users WHERE id = ?', [userId]);
  const held = await db.all<{ id: string }>('SELECT id FROM holds WHERE user_id = ?', [userId]);
  return {
    ids: logs.map((l) => l.request_id),
    costs: logs.map((l) => Number(l.cost)),
    balance: Number(u!.balance),
    used: Number(u!.used),
    requests: Number(u!.request_count),
    holds: held.map((h) => h.id).sort(),
  };
}

const segments = (dataDir: string) => {
  try {
    return readdirSync(join(dataDir, JOURNAL_DIR)).filter((n) => n.endsWith('.jsonl'));
  } catch {
    return [];
  }
};
const journaled = (dataDir: string) =>
  segments(dataDir).flatMap((n) =>
    readFileSync(join(dataDir, JOURNAL_DIR, n), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).log.requestId as string),
  );

// These wait on settlement retries, which back off while the database refuses them: longer than the default.
const JOURNAL_WAIT = { timeoutMs: 20_000 };

describe.runIf(process.env.TEST_DATABASE_URL)('settlement journal (PostgreSQL)', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let proxy: PgProxy;
  let db: Database;
  let dataDir: string;
  beforeAll(async () => {
    fresh = await freshDatabase();
    db = await openDatabase(fresh.url);
    dataDir = mkdtempSync(join(tmpdir(), 'moleapi-journal-'));
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.close();
    await fresh?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('kill -9 after the answers and before their commit: the restart charges each exactly once, and a second replay of the same journal charges nothing', { timeout: 180_000 }, async () => {
    proxy = await startPgProxy(fresh.url);
    const first = await start(proxy.url, dataDir);
    const { userId, key } = await setup(first.url);
    const held = proxy.holdQuery(SETTLE_MARKER);
    const ids = await ask(first.url, key, 5);
    await held; // the first settlement's commit is stuck before the server; the others queue behind it

    // Answered, not charged yet, but every request's hold still reserves its points.
    const before = await charged(db, userId);
    expect([before.ids, before.balance]).toEqual([[], START]);
    expect(before.holds).toEqual([...ids].sort());
    expect(journaled(dataDir).sort()).toEqual([...ids].sort());

    expect(await stop(first, 'SIGKILL')).toBe('SIGKILL');
    await proxy.close();
    const copy = mkdtempSync(join(tmpdir(), 'moleapi-journal-copy-'));
    cpSync(join(dataDir, JOURNAL_DIR), copy, { recursive: true });

    const second = await start(fresh.url, dataDir);
    const after = await charged(db, userId);
    expect(after.ids).toEqual([...ids].sort());
    expect(after.costs).toEqual(ids.map(() => COST));
    expect([after.balance, after.used, after.requests, after.holds]).toEqual([START - 5 * COST, 5 * COST, 5, []]);
    expect((await checkLedger(db)).mismatches).toEqual([]);
    expect(await stop(second, 'SIGTERM')).toBe(0);

    // The same journal again, as if the restart had crashed before deleting it: nothing twice.
    cpSync(copy, join(dataDir, JOURNAL_DIR), { recursive: true });
    rmSync(copy, { recursive: true, force: true });
    expect(segments(dataDir).length).toBeGreaterThan(0);
    const third = await start(fresh.url, dataDir);
    await third.waitFor(/"skipped":5/);
    expect(await charged(db, userId)).toEqual(after);
    expect((await checkLedger(db)).mismatches).toEqual([]);
    expect(await stop(third, 'SIGTERM')).toBe(0);
    expect(segments(dataDir)).toEqual([]);
  });

  it('settlements the database refuses: answered, charged once it accepts them, and kept across a kill -9 during the outage', { timeout: 180_000 }, async () => {
    proxy = await startPgProxy(fresh.url);
    const first = await start(proxy.url, dataDir);
    const { userId, key } = await setup(first.url);

    // An outage of the settlements while answering; then the database is back: the retry charges them.
    proxy.cutQueries(SETTLE_MARKER);
    const early = await ask(first.url, key, 3);
    await first.waitFor(/database still refuses settlements; retrying/);
    expect((await charged(db, userId)).ids).toEqual([]);
    proxy.cutQueries(null);
    await until(async () => (await charged(db, userId)).ids.length === 3, JOURNAL_WAIT);
    const mid = await charged(db, userId);
    expect([mid.ids, mid.balance, mid.holds]).toEqual([[...early].sort(), START - 3 * COST, []]);

    // Another outage, and the gateway dies in it: the charges are in its journal only.
    proxy.cutQueries(SETTLE_MARKER);
    const late = await ask(first.url, key, 4);
    await until(() => first.output().split('database still refuses settlements').length > 2, JOURNAL_WAIT);
    expect(await stop(first, 'SIGKILL')).toBe('SIGKILL');
    await proxy.close();
    expect((await charged(db, userId)).ids).toEqual([...early].sort());

    const second = await start(fresh.url, dataDir);
    const after = await charged(db, userId);
    expect(after.ids).toEqual([...early, ...late].sort());
    expect([after.balance, after.used, after.requests, after.holds]).toEqual([START - 7 * COST, 7 * COST, 7, []]);
    expect((await checkLedger(db)).mismatches).toEqual([]);
    expect(await stop(second, 'SIGTERM')).toBe(0);
    expect(segments(dataDir)).toEqual([]);
  });

  it('SIGTERM while commits are held back: the gateway commits every answered request before it exits', { timeout: 180_000 }, async () => {
    proxy = await startPgProxy(fresh.url);
    const gw = await start(proxy.url, dataDir);
    const { userId, key } = await setup(gw.url);
    const held = proxy.holdQuery(SETTLE_MARKER);
    const ids = await ask(gw.url, key, 4);
    const release = await held;
    gw.child.kill('SIGTERM');
    await gw.waitFor(/shutting down/);
    release();
    expect(await gw.exited).toBe(0);
    await proxy.close();
    const after = await charged(db, userId);
    expect(after.ids).toEqual([...ids].sort());
    expect([after.balance, after.holds]).toEqual([START - 4 * COST, []]);
    expect((await checkLedger(db)).mismatches).toEqual([]);
    expect(segments(dataDir)).toEqual([]);
  });
});

describe('journals of other instances at start (both databases)', () => {
  const settlement = (requestId: string, userId: number, keyId: number, cost: number): Settlement => ({
    holdId: requestId,
    userId,
    keyId,
    cost,
    log: {
      requestId, userId, keyId, keyName: 'k', model: MODEL, group: 'default', channelId: null, channelName: null, promptTokens: 10,
      completionTokens: 8, cachedTokens: 0, cost, durationMs: 1, firstTokenMs: 1, stream: false, status: 200, estimated: false, error: null,
      createdAt: Date.now(),
    },
  });

  it('segments: a full one gives way to a new one and goes once all of it has committed; an all-committed current one is emptied', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'moleapi-journal-seg-'));
    try {
      const j = SettlementJournal.open(dataDir, 'seg');
      const size = (n: string) => readFileSync(join(dataDir, JOURNAL_DIR, n)).length;
      const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => settlement(`seg-${from + i}`, 1, 1, 1));
      // Settlements go to seg.0 until it has passed 1 MB; the next write starts seg.1.
      const first: Settlement[] = [];
      while (segments(dataDir).length < 2) {
        const s = settlement(`seg-${first.length}`, 1, 1, 1);
        first.push(s);
        j.append([s]);
      }
      const second = [first.pop()!, ...batch(9000, 10)]; // the one that opened seg.1, and ten more
      j.append(second.slice(1));
      expect(size('seg.0.jsonl')).toBeGreaterThan(1 << 20);
      expect(journaled(dataDir)).toHaveLength(first.length + second.length);
      j.committed(first.slice(1));
      expect(segments(dataDir).sort()).toEqual(['seg.0.jsonl', 'seg.1.jsonl']); // one settlement of it still to commit
      j.committed(first.slice(0, 1));
      expect(segments(dataDir)).toEqual(['seg.1.jsonl']);
      j.committed(second);
      const third = batch(4000, 3000);
      j.append(third.slice(0, 2990));
      j.committed(third.slice(0, 2990)); // all committed and past 1 MB: the next write empties it
      j.append(third.slice(2990));
      expect(segments(dataDir)).toEqual(['seg.1.jsonl']);
      expect(journaled(dataDir)).toEqual(third.slice(2990).map((s) => s.log.requestId));
      expect(size('seg.1.jsonl')).toBeLessThan(10_000);
      j.close();
      expect(readdirSync(join(dataDir, JOURNAL_DIR))).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a stopped instance's journal is applied once (a line twice in it too); a live instance's is left alone", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'moleapi-journal-any-'));
    const first = await startGateway({ env: { DATA_DIR: dataDir } });
    const { userId, keyId } = await createUserWithKey(first, { balance: START });
    await first.close({ keepDatabase: true });

    // A stopped instance: its lock is free, its files are there (a crash leaves them so).
    const dead = SettlementJournal.open(dataDir, 'stopped-instance');
    dead.append([settlement('jr-1', userId, keyId, 1000), settlement('jr-2', userId, keyId, 234)]);
    dead.append([settlement('jr-1', userId, keyId, 1000)]);
    dead.close({ keep: true });
    // A live one (this process holds its lock): its settlement is its own to commit.
    const live = SettlementJournal.open(dataDir, 'live-instance');
    live.append([settlement('jr-live', userId, keyId, 5)]);

    const second = await startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword, env: { DATA_DIR: dataDir } });
    try {
      const c = await charged(second.gateway.db, userId);
      expect(c.ids).toEqual(['jr-1', 'jr-2']);
      expect([c.balance, c.used, c.requests]).toEqual([START - 1234, 1234, 2]);
      expect((await checkLedger(second.gateway.db)).mismatches).toEqual([]);
      // Besides the running gateway's own (PostgreSQL journals; SQLite has none), only the live one's is left.
      const own = `${second.gateway.instanceId}.`;
      expect(segments(dataDir).filter((n) => !n.startsWith(own))).toEqual(['live-instance.0.jsonl']);
    } finally {
      await second.close({ keepDatabase: true });
    }
    // The live one stops (crashes) in turn: the next start applies its journal.
    live.close({ keep: true });
    const third = await startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword, env: { DATA_DIR: dataDir } });
    try {
      const c = await charged(third.gateway.db, userId);
      expect(c.ids).toEqual(['jr-1', 'jr-2', 'jr-live']);
      expect(c.balance).toBe(START - 1239);
      expect((await checkLedger(third.gateway.db)).mismatches).toEqual([]);
      const own = `${third.gateway.instanceId}.`;
      expect(segments(dataDir).filter((n) => !n.startsWith(own))).toEqual([]);
    } finally {
      await third.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
