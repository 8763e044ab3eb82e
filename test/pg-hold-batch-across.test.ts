// PostgreSQL hold batching across accounts (issue 6, 100 users at 100 connections): the holds waiting
// in an instance, whatever their accounts, go in one place_holds_across call. These tests pin that
// each hold is still decided against its own account's running room, in arrival order, that a
// missing user or key refuses only its own holds, and that batches taking many accounts' locks from
// two instances, beside single holds and guarded debits, can neither deadlock nor overdraw.
import { describe, expect, it } from 'vitest';
import { walletOf } from '../src/accounts/users.ts';
import type { Database, Queryable } from '../src/db/index.ts';
import { InsufficientBalanceError, postEntry } from '../src/ledger/entries.ts';
import { HoldBatcher, type BatchedHold } from '../src/ledger/hold-batch.ts';
import { placeHold } from '../src/ledger/holds.ts';
import { accountWithKey, addKey, holdUserLock, twoInstancesForFile, type Account } from './helpers/pg-instances.ts';

let a: Database;
let b: Database; // a second instance (its own pools)
twoInstancesForFile((t) => ({ a, b } = t));

const account = (balance: number, quotaLimit: number | null = null) => accountWithKey(a, 'phx', balance, quotaLimit);
/** A batcher over `db`'s hold pool that records each call's hold count (the batcher holds.ts uses is per database). */
function countingBatcher(db: Database, maxCalls: number): { batcher: HoldBatcher; calls: number[] } {
  const calls: number[] = [];
  const counting: Queryable = {
    all: (sql, p) => db.relaxed!.all(sql, p),
    run: (sql, p) => db.relaxed!.run(sql, p),
    get: (sql, p) => {
      calls.push(Array.isArray(p?.[0]) ? (p[0] as unknown[]).length : 1);
      return db.relaxed!.get(sql, p);
    },
  };
  return { batcher: new HoldBatcher(counting, maxCalls), calls };
}

const held = (acc: Account, id: string, amount: number): BatchedHold => ({ holdId: id, userId: acc.userId, keyId: acc.keyId, amount, instanceId: 'pg-hold-across' });

const heldRows = async (userId: number) =>
  Number((await a.get<{ s: number }>('SELECT COALESCE(SUM(amount), 0) AS s FROM holds WHERE user_id = ?', [userId]))!.s);

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL hold batching across accounts', () => {
  it('the holds of 20 accounts that waited go in one call, each decided against its own account in arrival order', async () => {
    const { batcher, calls } = countingBatcher(a, 1);
    const starter = await account(1000);
    const plain = await Promise.all(Array.from({ length: 10 }, () => account(250)));
    const keyLimited = await Promise.all(Array.from({ length: 10 }, () => account(250, 150)));
    const accounts = plain.flatMap((p, i) => [p, keyLimited[i]!]);
    const first = batcher.place(held(starter, 'x-start', 100)); // in flight: the rest wait
    const rounds = [0, 1, 2].map((r) => accounts.map((acc, i) => batcher.place(held(acc, `x-${r}-${i}`, 100))));
    expect(await first).toBe('ok:900');
    const outcomes = await Promise.all(rounds.map((round) => Promise.all(round)));
    expect(calls).toEqual([1, 60]);
    for (const [i, acc] of accounts.entries()) {
      const mine = outcomes.map((round) => round[i]);
      // Balance 250: 150 then 50 left, then refused; a key limit of 150: 50 left, then the key refuses.
      expect(mine).toEqual(keyLimited.includes(acc) ? ['ok:50', 'key', 'key'] : ['ok:150', 'ok:50', 'balance']);
      expect(await heldRows(acc.userId)).toBe(keyLimited.includes(acc) ? 100 : 200);
    }
  });

  it('two keys of one user in one call share the user\'s balance; each key keeps its own limit', async () => {
    const { batcher, calls } = countingBatcher(a, 1);
    const acc = await account(1000, 300);
    const other = { userId: acc.userId, keyId: await addKey(a, acc.userId, `phx-second-${acc.userId}`) };
    const starter = await account(1000);
    const first = batcher.place(held(starter, 'two-start', 10));
    const amounts = [200, 200, 200, 200, 200, 200];
    const results = await Promise.all(amounts.map((amount, i) => batcher.place(held(i % 2 ? other : acc, `two-${i}`, amount))));
    await first;
    expect(calls).toEqual([1, 6]);
    // acc's key: 300 → 100 left after its first, refuses its second and third; the user's 1000 is shared.
    expect(results).toEqual(['ok:100', 'ok:600', 'key', 'ok:400', 'key', 'ok:200']);
    expect(await heldRows(acc.userId)).toBe(800);
  });

  it('a missing key or user refuses its own holds only; the others in the call are placed', async () => {
    const { batcher, calls } = countingBatcher(a, 1);
    const acc = await account(500);
    const starter = await account(1000);
    const first = batcher.place(held(starter, 'miss-start', 10));
    const results = await Promise.all([
      batcher.place(held(acc, 'miss-0', 100)),
      batcher.place({ ...held(acc, 'miss-1', 100), keyId: 2_000_000_000 }), // no such key
      batcher.place({ ...held(acc, 'miss-2', 100), userId: 2_000_000_000 }), // the key exists, the user does not
      batcher.place(held(acc, 'miss-3', 100)),
    ]);
    await first;
    expect(calls).toEqual([1, 4]);
    expect(results).toEqual(['ok:400', 'key', 'balance', 'ok:300']);
    expect(await heldRows(acc.userId)).toBe(200);
  });

  it('two instances batching the same 30 accounts in opposite orders, beside single holds and guarded debits: no deadlock, no overdraft', async () => {
    const balance = 2500; // each account is asked for more (3000 and up): the last holds are refused
    const accounts = await Promise.all(Array.from({ length: 30 }, () => account(balance)));
    const ascending = countingBatcher(a, 1);
    const descending = countingBatcher(b, 1);
    const debits = new Map<number, Promise<number>>();
    const placed = new Map<number, number>(); // user → the amounts of the holds answered 'ok'
    const track = (acc: Account, amount: number, p: Promise<string>) =>
      p.then((r) => {
        if (r.startsWith('ok')) placed.set(acc.userId, (placed.get(acc.userId) ?? 0) + amount);
      });
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      const starterA = accounts[round]!;
      const starterB = accounts[29 - round]!;
      work.push(track(starterA, 100, ascending.batcher.place(held(starterA, `opp-a-${round}-s`, 100))));
      work.push(track(starterB, 100, descending.batcher.place(held(starterB, `opp-b-${round}-s`, 100))));
      for (let i = 0; i < 30; i++) {
        const up = accounts[i]!;
        const down = accounts[29 - i]!;
        work.push(track(up, 300, ascending.batcher.place(held(up, `opp-a-${round}-${i}`, 300))));
        work.push(track(down, 300, descending.batcher.place(held(down, `opp-b-${round}-${i}`, 300))));
        // A single hold through the other path (place_hold: user lock, then key lock).
        if (i % 3 === 0) work.push(track(up, 300, placeHold(i % 2 ? a : b, { ...held(up, `opp-s-${round}-${i}`, 300), keyLimited: false })));
        // A guarded debit takes the user's lock only.
        if (round === 2 && i % 5 === 0) {
          const debit = postEntry(i % 2 ? a : b, { userId: up.userId, kind: 'adjustment', amount: -1200, reference: `opp-debit:${up.userId}` }).then(
            () => 1200,
            (err) => {
              if (err instanceof InsufficientBalanceError) return 0;
              throw err;
            },
          );
          debits.set(up.userId, debit);
          work.push(debit);
        }
      }
    }
    const settled = await Promise.allSettled(work);
    // A deadlock would reject a call (40P01): every call must have answered.
    expect(settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason))).toEqual([]);
    expect(ascending.calls.some((c) => c > 1) && descending.calls.some((c) => c > 1)).toBe(true);
    for (const acc of accounts) {
      const debited = (await debits.get(acc.userId)) ?? 0;
      const holdsHeld = await heldRows(acc.userId);
      const w = (await walletOf(a, acc.userId))!;
      expect(holdsHeld + debited).toBeLessThanOrEqual(balance);
      expect(Number(w.balance)).toBe(balance - debited);
      expect(Number(w.held)).toBe(holdsHeld);
      expect(holdsHeld).toBe(placed.get(acc.userId) ?? 0); // a row for every hold answered 'ok', and no other
      expect(holdsHeld + debited).toBeGreaterThan(balance - 300); // refused only for lack of points
    }
  });

  it('a call stuck on one user\'s lock does not stop other users\' holds; that user\'s next hold waits for it, in order', async () => {
    const { batcher, calls } = countingBatcher(a, 2);
    const stuck = await account(150);
    const other = await account(1000);
    const unlock = await holdUserLock(b, stuck.userId); // as a guarded debit on the other instance would
    const first = batcher.place(held(stuck, 'stuck-0', 100)); // waits on the lock
    // The second slot serves another user at once.
    expect(await batcher.place(held(other, 'free-0', 100))).toBe('ok:900');
    // The stuck user's next hold waits in the instance although a slot is free (it must not overtake).
    const second = batcher.place(held(stuck, 'stuck-1', 100));
    const third = batcher.place(held(other, 'free-1', 100)); // …and the other user's go on meanwhile
    expect(await third).toBe('ok:800');
    expect(calls).toEqual([1, 1, 1]);
    await unlock();
    expect([await first, await second]).toEqual(['ok:50', 'balance']);
    expect(calls).toEqual([1, 1, 1, 1]);
  });
});
