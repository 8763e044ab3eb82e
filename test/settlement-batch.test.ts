// The settlement writer's batches on a real database: one bad item does not refuse the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../src/accounts/users.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { checkLedger } from '../src/ledger/entries.ts';
import { SettlementDeferred, SettlementWriter } from '../src/ledger/settlement-writer.ts';
import type { Settlement } from '../src/ledger/settlement-sql.ts';
import { freshDatabase } from './helpers/gateway.ts';

let db: Database;
let drop: () => Promise<void>;
beforeAll(async () => {
  const fresh = await freshDatabase();
  drop = fresh.drop;
  db = await openDatabase(fresh.url);
  await migrate(db);
});
afterAll(async () => {
  await db.close();
  await drop();
});

async function account(name: string): Promise<{ userId: number; keyId: number }> {
  const u = await createUser(db, { username: name, password: 'password-123', group: 'default', trialQuota: 100_000 });
  const k = await db.get<{ id: number }>(
    "INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at) VALUES (?, 'k', ?, 'hint', 'default', ?) RETURNING id",
    [u.id, `hash-${name}`, Date.now()],
  );
  return { userId: u.id, keyId: Number(k!.id) };
}

const settlement = (id: string, a: { userId: number; keyId: number }, cost: number): Settlement => ({
  holdId: id,
  userId: a.userId,
  keyId: a.keyId,
  cost,
  log: {
    requestId: id, userId: a.userId, keyId: a.keyId, keyName: 'k', model: 'm', group: 'default', channelId: null, channelName: null,
    promptTokens: 1, completionTokens: 1, cachedTokens: 0, cost, durationMs: 1, firstTokenMs: null, stream: false, status: 200,
    estimated: false, error: null, createdAt: Date.now(),
  },
});

describe('settlement batches', () => {
  it('one bad item in a batch does not refuse the rest: the others commit, the bad one stays owed', async () => {
    const a = await account('batch_a');
    const b = await account('batch_b');
    const committed: string[] = [];
    const writer = new SettlementWriter(db, db.dialect === 'postgres', (items) => committed.push(...items.map((s) => s.holdId)));
    const good = [settlement('g1', a, 100), settlement('g2', b, 200), settlement('g3', a, 300), settlement('g4', b, 400)];
    const bad = settlement('bad', { userId: 987_654, keyId: a.keyId }, 50); // its account is gone
    // Queued in the same tick: one batch, which the bad item makes fail as a whole.
    const results = await Promise.allSettled([...good.slice(0, 2), bad, ...good.slice(2)].map((s) => writer.settle(s)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(SettlementDeferred);
    expect(committed.sort()).toEqual(['g1', 'g2', 'g3', 'g4']);

    const balances = await db.all<{ id: number; balance: number; used: number }>('SELECT id, balance, used FROM users WHERE id IN (?, ?) ORDER BY id', [a.userId, b.userId]);
    expect(balances.map((r) => [Number(r.id), Number(r.balance), Number(r.used)])).toEqual([
      [a.userId, 100_000 - 400, 400],
      [b.userId, 100_000 - 600, 600],
    ]);
    const logs = await db.all<{ request_id: string }>('SELECT request_id FROM usage_logs ORDER BY request_id');
    expect(logs.map((r) => r.request_id)).toEqual(['g1', 'g2', 'g3', 'g4']);
    expect((await checkLedger(db)).mismatches).toEqual([]);

    // Still owed, so it is handed over at close (to be kept on disk), not dropped.
    expect((await writer.close()).map((s) => s.holdId)).toEqual(['bad']);
  });
});
