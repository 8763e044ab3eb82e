// PostgreSQL hold batching (issue 6, one user at 100 connections): while one hold of an account is in
// flight, the account's next holds queue in the instance and go together in one call,
// decided in arrival order against a running room. These tests pin what that must never change: the
// same outcomes as one call per hold in that order, no overdraft beside a guarded debit, and a failed
// call that fails its own holds only.
import { describe, expect, it } from 'vitest';
import { walletOf } from '../src/accounts/users.ts';
import type { Database, Queryable } from '../src/db/index.ts';
import { InsufficientBalanceError, postEntry } from '../src/ledger/entries.ts';
import { HoldBatcher, MAX_HOLD_BATCH } from '../src/ledger/hold-batch.ts';
import { placeHoldWithRoom, type PlacedHold } from '../src/ledger/holds.ts';
import { accountWithKey, holdUserLock, twoInstancesForFile, type Account } from './helpers/pg-instances.ts';

let a: Database;
let b: Database; // a second instance (its own pools) for the concurrent debits and the lock holder
twoInstancesForFile((t) => ({ a, b } = t));

const account = (balance: number, quotaLimit: number | null = null) => accountWithKey(a, 'phb', balance, quotaLimit);

const hold = (db: Database, acc: Account, id: string, amount: number): Promise<PlacedHold> =>
  placeHoldWithRoom(db, { holdId: id, userId: acc.userId, keyId: acc.keyId, amount, instanceId: 'pg-hold-batch', keyLimited: true });

/** Holds placed synchronously one after the other (their arrival order), settled to their outcomes. */
const burst = (db: Database, acc: Account, tag: string, amounts: number[]) =>
  Promise.allSettled(amounts.map((amount, i) => hold(db, acc, `${tag}-${i}`, amount)));

const outcome = (r: PromiseSettledResult<PlacedHold>) => (r.status === 'fulfilled' ? (r.value.result === 'ok' ? `ok:${r.value.room}` : r.value.result) : 'error');

const heldRows = async (acc: Account) =>
  Number((await a.get<{ s: number }>('SELECT COALESCE(SUM(amount), 0) AS s FROM holds WHERE user_id = ?', [acc.userId]))!.s);

/** Waits until a backend of this database is waiting on a lock while running `prefix…`; returns its pid. */
async function waitingBackend(prefix: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const row = await a.get<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ? LIMIT 1",
      [`${prefix}%`],
    );
    if (row) return Number(row.pid);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no backend waiting on a lock in ${prefix}`);
}

/** Runs `fn` while another connection holds the user's hold lock (as a guarded debit does). */
async function withUserLock<T>(acc: Account, fn: () => Promise<T>): Promise<T> {
  const unlock = await holdUserLock(b, acc.userId);
  try {
    return await fn();
  } finally {
    await unlock();
  }
}

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL hold batching', () => {
  it('200 concurrent holds against a balance for 37 of them: the first 37 to arrive are placed, the rest refused', async () => {
    const acc = await account(3700);
    const results = await burst(a, acc, 'k37', Array.from({ length: 200 }, () => 100));
    const outcomes = results.map(outcome);
    // Arrival order: the first is placed alone, the other 199 in one call, in order.
    expect(outcomes.slice(0, 37)).toEqual(Array.from({ length: 37 }, (_, i) => `ok:${3700 - 100 * (i + 1)}`));
    expect(outcomes.slice(37)).toEqual(Array.from({ length: 163 }, () => 'balance'));
    expect(await heldRows(acc)).toBe(3700);
    expect(Number((await walletOf(a, acc.userId))!.held)).toBe(3700);
  });

  it('holds are decided in arrival order: a refused large hold does not stop a later small one that fits', async () => {
    const acc = await account(1000);
    const outcomes = (await burst(a, acc, 'order', [300, 800, 500, 200, 100])).map(outcome);
    expect(outcomes).toEqual(['ok:700', 'balance', 'ok:200', 'ok:0', 'balance']);
    expect(await heldRows(acc)).toBe(1000);
  });

  it('the key limit refuses inside a batch, and each placed hold answers the room left after it', async () => {
    const acc = await account(1000, 700); // the key's limit is the tighter one
    const outcomes = (await burst(a, acc, 'keylim', Array.from({ length: 10 }, () => 100))).map(outcome);
    expect(outcomes).toEqual(['ok:600', 'ok:500', 'ok:400', 'ok:300', 'ok:200', 'ok:100', 'ok:0', 'key', 'key', 'key']);
    // Then the balance is the tighter one: the room answered is the smaller of the two.
    const acc2 = await account(300, 1000);
    expect((await burst(a, acc2, 'ballim', [100, 100, 100, 100])).map(outcome)).toEqual(['ok:200', 'ok:100', 'ok:0', 'balance']);
    // A key without a limit: only the balance counts.
    const acc3 = await account(250);
    expect((await burst(a, acc3, 'nolim', [100, 100, 100])).map(outcome)).toEqual(['ok:150', 'ok:50', 'balance']);
  });

  it('queued holds go in one call each up to the cap, in arrival order', async () => {
    // A pass-through over the real relaxed pool that counts the calls (the batcher holds.ts uses is per database).
    const calls: number[] = [];
    const counting: Queryable = {
      all: (sql, p) => a.relaxed!.all(sql, p),
      run: (sql, p) => a.relaxed!.run(sql, p),
      get: (sql, p) => {
        calls.push(Array.isArray(p?.[0]) ? (p[0] as unknown[]).length : 1);
        return a.relaxed!.get(sql, p);
      },
    };
    const batcher = new HoldBatcher(counting);
    const acc = await account(1_000_000);
    const count = 1 + 2 * MAX_HOLD_BATCH + 3;
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) => batcher.place({ holdId: `cap-${i}`, userId: acc.userId, keyId: acc.keyId, amount: 10, instanceId: 'pg-hold-batch' })),
    );
    expect(calls).toEqual([1, MAX_HOLD_BATCH, MAX_HOLD_BATCH, 3]);
    expect(results).toEqual(Array.from({ length: count }, (_, i) => `ok:${1_000_000 - 10 * (i + 1)}`));
    expect(await heldRows(acc)).toBe(10 * count);
  });

  it('a batch and a concurrent guarded debit cannot together overdraw', async () => {
    for (let round = 0; round < 6; round++) {
      const acc = await account(10_000);
      const debit = postEntry(round % 2 ? a : b, { userId: acc.userId, kind: 'adjustment', amount: -6000, reference: `debit:${acc.userId}` }).then(
        () => 6000,
        (err) => {
          if (err instanceof InsufficientBalanceError) return 0;
          throw err;
        },
      );
      const holds = burst(a, acc, `dbt${round}`, Array.from({ length: 200 }, () => 100));
      const [debited, results] = await Promise.all([debit, holds]);
      const held = results.filter((r) => r.status === 'fulfilled' && r.value.result === 'ok').length * 100;
      expect(debited + held).toBeLessThanOrEqual(10_000);
      expect(debited + held).toBeGreaterThanOrEqual(10_000 - 100); // refused only for lack of points
      const w = (await walletOf(a, acc.userId))!;
      expect(Number(w.balance) - Number(w.held)).toBe(10_000 - debited - held);
    }
  });

  it('a batch failing in the database rejects all of its holds and none is placed; the next holds work', async () => {
    const acc = await account(10_000);
    // The fourth repeats the first's id: the batch of the last five hits the primary key after the first committed.
    const ids = ['dup-0', 'dup-1', 'dup-2', 'dup-0', 'dup-4', 'dup-5'];
    const results = await Promise.allSettled(ids.map((id) => hold(a, acc, id, 100)));
    expect(results.map(outcome)).toEqual(['ok:9900', 'error', 'error', 'error', 'error', 'error']);
    expect(await heldRows(acc)).toBe(100);
    expect((await burst(a, acc, 'after-dup', [100, 100, 100])).map(outcome)).toEqual(['ok:9800', 'ok:9700', 'ok:9600']);
  });

  it('a connection lost mid-call rejects that call\'s holds only; the queue goes on', async () => {
    const acc = await account(10_000);
    const outcomes = await withUserLock(acc, async () => {
      const first = hold(a, acc, 'lost-0', 100);
      const firstSettled = Promise.allSettled([first]);
      const queued = ['lost-1', 'lost-2', 'lost-3'].map((id) => hold(a, acc, id, 100));
      // The single call waits on the lock: kill its connection. The queued three then go in one call.
      await a.get('SELECT pg_terminate_backend(?)', [await waitingBackend('SELECT place_hold(')]);
      const [single] = await firstSettled;
      // That call waits on the lock too: kill it as well. All three must fail with it.
      await a.get('SELECT pg_terminate_backend(?)', [await waitingBackend('SELECT place_holds_across(')]);
      const batch = await Promise.allSettled(queued);
      // Arriving now, with nothing in flight for the account: goes on its own once the lock is free.
      return { single: outcome(single!), batch: batch.map(outcome), after: hold(a, acc, 'lost-after', 100) };
    });
    expect(outcomes.single).toBe('error');
    expect(outcomes.batch).toEqual(['error', 'error', 'error']);
    expect(outcome({ status: 'fulfilled', value: await outcomes.after })).toBe('ok:9900');
    expect((await burst(a, acc, 'lost-next', [100, 100])).map(outcome)).toEqual(['ok:9800', 'ok:9700']);
    expect(await heldRows(acc)).toBe(300);
  });
});
