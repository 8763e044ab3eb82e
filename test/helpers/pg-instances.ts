// Two instances on one fresh, migrated database: two connection pools, as two gateways have, for the
// PostgreSQL hold tests that race one instance's holds against the other's; and the accounts they hold on.
import { afterAll, beforeAll } from 'vitest';
import { createUser } from '../../src/accounts/users.ts';
import { openDatabase, type Database } from '../../src/db/index.ts';
import { migrate } from '../../src/db/migrations.ts';
import { lockHoldsOf } from '../../src/ledger/hold-sql.ts';
import { freshDatabase } from './gateway.ts';

export interface TwoInstances {
  a: Database;
  b: Database;
  /** Closes both pools, then drops the database. */
  close: () => Promise<void>;
}

export async function openTwoInstances(): Promise<TwoInstances> {
  const fresh = await freshDatabase();
  const a = await openDatabase(fresh.url);
  await migrate(a);
  const b = await openDatabase(fresh.url);
  return {
    a,
    b,
    close: async () => {
      await b.close();
      await a.close();
      await fresh.drop();
    },
  };
}

/** For a PostgreSQL-only test file: two instances opened before its tests (handed to `set`), closed after; nothing without TEST_DATABASE_URL. */
export function twoInstancesForFile(set: (t: TwoInstances) => void): void {
  let close = async () => {};
  beforeAll(async () => {
    if (!process.env.TEST_DATABASE_URL) return;
    const t = await openTwoInstances();
    close = t.close;
    set(t);
  });
  afterAll(() => close());
}

export type Account = { userId: number; keyId: number };

let n = 0;
/** A user with `balance` points and one key (quotaLimit null: no key limit); `tag` marks the test file in names. */
export async function accountWithKey(db: Database, tag: string, balance: number, quotaLimit: number | null = null): Promise<Account> {
  const i = ++n; // read once: accounts may be created concurrently
  const u = await createUser(db, { username: `${tag}_${i}_${Date.now()}`, password: 'password-123', group: 'default', trialQuota: balance });
  return { userId: u.id, keyId: await addKey(db, u.id, `${tag}-${i}`, quotaLimit) };
}

/** Another key of the user (`hashTag` must be unique among the keys of this database). */
export async function addKey(db: Database, userId: number, hashTag: string, quotaLimit: number | null = null): Promise<number> {
  const k = await db.get<{ id: number }>(
    "INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at, quota_limit) VALUES (?, 'k', ?, 'hint', 'default', ?, ?) RETURNING id",
    [userId, `${hashTag}-${Date.now()}`, Date.now(), quotaLimit],
  );
  return Number(k!.id);
}

/** Takes the user's hold lock on `db` (as a guarded debit does) and keeps it until the returned release is called. */
export async function holdUserLock(db: Database, userId: number): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const tx = db.tx(async (q) => {
    await lockHoldsOf(q, userId);
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await tx;
  };
}
