// Two gateway instances on one PostgreSQL database settling for the same users at the same moment:
// rows are locked in one order (users, then keys, by id) and holds are one statement, so they queue
// instead of deadlocking; every balance is exact and ledger:check is clean afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLedgerCheck } from '../src/cli/run-ledger-check.ts';
import { settlementWriter } from '../src/ledger/holds.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

const USERS = 10;
const REQUESTS = 600;
const CONCURRENCY = 100;

describe.runIf(process.env.TEST_DATABASE_URL)('two PostgreSQL instances settling for the same users at once', () => {
  let up: FakeOpenAI;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    up = await startFakeOpenAI();
    a = await startGateway();
    await addChannel(a, { baseUrl: up.url, models: ['two-inst'] });
    await setPrice(a, 'two-inst', { input: '2', output: '8' });
    // Started after the channel and price exist, so it needs no invalidation message to see them.
    b = await startGateway({ databaseUrl: a.databaseUrl, adminPassword: a.adminPassword });
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
    await up?.close();
  });

  it('no deadlock, no refused batch, exact balances, ledger:check clean', async () => {
    const users: Array<Awaited<ReturnType<typeof createUserWithKey>>> = [];
    for (let i = 0; i < USERS; i++) users.push(await createUserWithKey(a, { balance: 1_000_000 }));
    const gateways = [a, b];
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const n = next++;
          // Every user on both instances, walked in opposite orders on the two.
          const i = Math.floor(n / 2) % USERS;
          const user = users[n % 2 ? USERS - 1 - i : i]!;
          const res = await fetch(`${gateways[n % 2]!.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'two-inst', max_tokens: 4, messages: [{ role: 'user', content: `hi ${n}` }] }),
          });
          await res.text();
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    for (const gw of gateways) await gw.settled(); // answers go out before their commits
    for (const gw of gateways) expect(settlementWriter(gw.gateway.db).stats.batchesRefused).toBe(0);

    const db = a.gateway.db;
    for (const u of users) {
      const row = await db.get<{ balance: number; held: number; request_count: number }>('SELECT balance, (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE user_id = users.id) AS held, request_count FROM users WHERE id = ?', [u.userId]);
      const logs = await db.get<{ cost: number; n: number }>('SELECT SUM(cost) AS cost, COUNT(*) AS n FROM usage_logs WHERE user_id = ?', [u.userId]);
      expect(Number(logs!.n)).toBe(REQUESTS / USERS);
      expect(Number(logs!.cost)).toBeGreaterThan(0);
      expect(Number(row!.balance)).toBe(1_000_000 - Number(logs!.cost));
      expect(Number(row!.held)).toBe(0);
      expect(Number(row!.request_count)).toBe(REQUESTS / USERS);
    }
    const check = await runLedgerCheck(a.databaseUrl);
    expect(check.code, check.lines.join('\n')).toBe(0);
  }, 60_000);
});
