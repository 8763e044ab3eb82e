// PostgreSQL holds without row locks (issue 6, PostgreSQL under load): a hold serialises per account on
// advisory locks and counts the live hold rows, so it never waits on the users / api_keys rows that a
// settlement keeps locked until its synchronous commit; holds from several instances still cannot
// take the same points, and a guarded debit counts them too.
import { describe, expect, it } from 'vitest';
import { walletOf } from '../src/accounts/users.ts';
import type { Database } from '../src/db/index.ts';
import { InsufficientBalanceError, postEntry } from '../src/ledger/entries.ts';
import { placeHold } from '../src/ledger/holds.ts';
import { accountWithKey, twoInstancesForFile, type Account } from './helpers/pg-instances.ts';

let a: Database; // two instances: two connection pools on one database
let b: Database;
twoInstancesForFile((t) => ({ a, b } = t));

const account = (balance: number, quotaLimit: number | null = null) => accountWithKey(a, 'pgh', balance, quotaLimit);

const hold = (db: Database, acc: Account, id: string, amount: number) =>
  placeHold(db, { holdId: id, userId: acc.userId, keyId: acc.keyId, amount, instanceId: 'pg-holds', keyLimited: true });

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL holds', () => {
  it('a hold does not wait while a settlement holds the user and key rows locked', async () => {
    const acc = await account(1000);
    // Another connection keeps both rows locked, as a settlement does until its commit reaches the disk.
    const outcome = await a.tx(async (q) => {
      await q.get('SELECT id FROM users WHERE id = ? FOR UPDATE', [acc.userId]);
      await q.get('SELECT id FROM api_keys WHERE id = ? FOR UPDATE', [acc.keyId]);
      let timer: NodeJS.Timeout | undefined;
      const blocked = new Promise<'blocked'>((r) => (timer = setTimeout(() => r('blocked'), 3000)));
      const result = await Promise.race([hold(b, acc, 'under-lock', 300), blocked]);
      clearTimeout(timer);
      return result;
    });
    expect(outcome).toBe('ok');
    expect(Number((await walletOf(a, acc.userId))!.held)).toBe(300);
  });

  it('holds from two instances racing for the last points: exactly what the balance and the key limit allow', async () => {
    const byBalance = await account(1000);
    const byKey = await account(1_000_000, 500);
    const race = (acc: Account, tag: string) =>
      Promise.all(Array.from({ length: 40 }, (_, i) => hold(i % 2 ? a : b, acc, `${tag}-${i}`, 100)));
    const [balanceResults, keyResults] = await Promise.all([race(byBalance, 'bal'), race(byKey, 'key')]);
    expect(balanceResults.filter((r) => r === 'ok')).toHaveLength(10);
    expect(balanceResults.filter((r) => r === 'balance')).toHaveLength(30);
    expect(keyResults.filter((r) => r === 'ok')).toHaveLength(5);
    expect(keyResults.filter((r) => r === 'key')).toHaveLength(35);
    expect(Number((await walletOf(a, byBalance.userId))!.held)).toBe(1000);
  });

  it('a guarded debit and concurrent holds cannot together overdraw', async () => {
    for (let round = 0; round < 5; round++) {
      const acc = await account(1000);
      const debit = postEntry(round % 2 ? a : b, { userId: acc.userId, kind: 'adjustment', amount: -600, reference: `debit:${acc.userId}` }).then(
        () => 600,
        (err) => {
          if (err instanceof InsufficientBalanceError) return 0;
          throw err;
        },
      );
      const holds = Promise.all(Array.from({ length: 10 }, (_, i) => hold(i % 2 ? a : b, acc, `d${acc.userId}-${i}`, 100)));
      const [debited, results] = await Promise.all([debit, holds]);
      const held = results.filter((r) => r === 'ok').length * 100;
      expect(debited + held).toBeLessThanOrEqual(1000);
      expect(debited + held).toBeGreaterThanOrEqual(1000 - 100); // whoever came last was refused only for lack of points
      const w = (await walletOf(a, acc.userId))!;
      expect(Number(w.balance) - Number(w.held)).toBe(1000 - debited - held);
    }
  });
});
