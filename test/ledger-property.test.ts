// Property test of the money core: random interleavings of holds, settlements (some over their hold),
// releases, adjustments, trial credits and retried references keep `entries − usage-log costs = balance`,
// leave no hold open once every request closed, and never let a balance go below the documented policy
// (zero, except by the overrun of a served request whose real cost exceeded its hold).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, walletOf } from '../src/accounts/users.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { checkLedger, InsufficientBalanceError, postEntry } from '../src/ledger/entries.ts';
import { heldInMemory, placeHold, release, settle } from '../src/ledger/holds.ts';
import type { UsageLogRow } from '../src/logs/usage-log.ts';
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

type Op =
  | { t: 'request'; user: number; hold: number; cost: number; outcome: 'settle' | 'release' }
  | { t: 'adjust'; user: number; amount: number; ref: number }
  | { t: 'trial'; user: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('request' as const), user: fc.nat(2), hold: fc.integer({ min: 1, max: 5000 }), cost: fc.integer({ min: 0, max: 6000 }), outcome: fc.constantFrom('settle' as const, 'release' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('adjust' as const), user: fc.nat(2), amount: fc.integer({ min: -20_000, max: 20_000 }).filter((a) => a !== 0), ref: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('trial' as const), user: fc.nat(2) }) },
);

let seq = 0;
const log = (requestId: string, userId: number, keyId: number, cost: number, status: number): UsageLogRow => ({
  requestId, userId, keyId, keyName: 'k', model: 'm', group: 'default', channelId: null, channelName: null,
  promptTokens: 1, completionTokens: 1, cachedTokens: 0, cost, durationMs: 1, firstTokenMs: null, stream: false, status,
  estimated: false, error: null, createdAt: Date.now(),
});

describe('ledger invariants under random concurrent operations', () => {
  it('sum of entries = balance; no hold left open; balance ≥ −(overruns)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }), async (batches) => {
        const run = ++seq;
        const users: { id: number; keyId: number }[] = [];
        for (let i = 0; i < 3; i++) {
          const u = await createUser(db, { username: `p${run}_${i}`, password: 'password-123', group: 'default', trialQuota: 10_000 });
          const k = await db.get<{ id: number }>(
            "INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at) VALUES (?, 'k', ?, 'hint', 'default', ?) RETURNING id",
            [u.id, `h${run}_${i}`, Date.now()],
          );
          users.push({ id: u.id, keyId: Number(k!.id) });
        }
        const overrun = [0, 0, 0];
        let reqSeq = 0;
        for (const batch of batches) {
          // Each batch runs concurrently: holds, settlements and adjustments interleave.
          await Promise.all(
            batch.map(async (op) => {
              const u = users[op.user]!;
              if (op.t === 'trial') {
                // Repeating a reference never applies twice.
                await postEntry(db, { userId: u.id, kind: 'trial', amount: 10_000, reference: `trial:${u.id}` });
              } else if (op.t === 'adjust') {
                try {
                  await postEntry(db, { userId: u.id, kind: 'adjustment', amount: op.amount, reference: `adj:${run}:${op.user}:${op.ref}` });
                } catch (err) {
                  if (!(err instanceof InsufficientBalanceError)) throw err;
                }
              } else {
                const holdId = `r${run}_${++reqSeq}`;
                const placed = await placeHold(db, { holdId, userId: u.id, keyId: u.keyId, amount: op.hold, instanceId: 'prop', keyLimited: false });
                if (placed !== 'ok') return;
                if (op.outcome === 'release') await release(db, { holdId, userId: u.id, keyId: u.keyId, log: log(holdId, u.id, u.keyId, 0, 502) });
                else {
                  overrun[op.user]! += Math.max(0, op.cost - op.hold);
                  await settle(db, { holdId, userId: u.id, keyId: u.keyId, cost: op.cost, log: log(holdId, u.id, u.keyId, op.cost, 200) });
                }
              }
            }),
          );
          const { mismatches } = await checkLedger(db);
          expect(mismatches).toEqual([]);
          for (const [i, u] of users.entries()) {
            const row = await walletOf(db, u.id); // held = the sum of the user's live hold rows
            expect(Number(row!.held) + heldInMemory(db, u.id)).toBe(0); // every request of the batch has closed
            expect(Number(row!.balance)).toBeGreaterThanOrEqual(-overrun[i]!);
            const cost = await db.get<{ n: number }>("SELECT COALESCE(SUM(cost), 0) AS n FROM usage_logs WHERE user_id = ?", [u.id]);
            const used = await db.get<{ n: number }>('SELECT used AS n FROM users WHERE id = ?', [u.id]);
            expect(Number(used!.n)).toBe(Number(cost!.n)); // what the log says was charged is what was deducted
          }
        }
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 30) },
    );
  }, 180_000);

  it('a hold never lets available balance go below zero', async () => {
    const u = await createUser(db, { username: `hold_${Date.now()}`, password: 'password-123', group: 'default', trialQuota: 1000 });
    const k = await db.get<{ id: number }>(
      "INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at) VALUES (?, 'k', ?, 'hint', 'default', ?) RETURNING id",
      [u.id, `hh${Date.now()}`, Date.now()],
    );
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => placeHold(db, { holdId: `hold_${u.id}_${i}`, userId: u.id, keyId: Number(k!.id), amount: 100, instanceId: 'prop', keyLimited: false })),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    const row = await walletOf(db, u.id);
    expect(Number(row!.held) + heldInMemory(db, u.id)).toBe(1000);
    expect(Number(row!.balance)).toBe(1000);
  });

  it('holds see credits and debits made after the balance floor was taken', async () => {
    const u = await createUser(db, { username: `floor_${Date.now()}`, password: 'password-123', group: 'default', trialQuota: 1000 });
    const k = await db.get<{ id: number }>(
      "INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at) VALUES (?, 'k', ?, 'hint', 'default', ?) RETURNING id",
      [u.id, `hf${Date.now()}`, Date.now()],
    );
    const keyId = Number(k!.id);
    const hold = (id: string, amount: number) => placeHold(db, { holdId: id, userId: u.id, keyId, amount, instanceId: 'prop', keyLimited: false });
    expect(await hold('f1', 800)).toBe('ok');
    await settle(db, { holdId: 'f1', userId: u.id, keyId, cost: 800, log: log('f1', u.id, keyId, 800, 200) });
    expect(await hold('f2', 300)).toBe('balance'); // 200 left
    await postEntry(db, { userId: u.id, kind: 'adjustment', amount: 5000, reference: `floor-credit-${u.id}` });
    expect(await hold('f3', 4000)).toBe('ok'); // the credit is seen although the floor predates it
    await release(db, { holdId: 'f3', userId: u.id, keyId, log: log('f3', u.id, keyId, 0, 502) });
    await postEntry(db, { userId: u.id, kind: 'adjustment', amount: -5100, reference: `floor-debit-${u.id}` });
    expect(await hold('f4', 101)).toBe('balance'); // 100 left: the debit lowered the floor
    expect(await hold('f5', 100)).toBe('ok');
  });
});

