import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { connectSqlite, directQueryable, statementRunner } from './sqlite-connection.ts';
import { lockSqliteFile, restrictSqliteFiles } from './sqlite-files.ts';
import { BUSY, type Database, type Row } from './types.ts';

/**
 * One better-sqlite3 connection. Calls are synchronous, so a transaction whose callback awaits would let
 * other requests' statements join it; every call therefore goes through one FIFO lock (free fast path).
 */
export async function openSqlite(url: string, opts: { exclusive?: boolean } = {}): Promise<Database> {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  let unlock = () => {};
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    if (opts.exclusive) unlock = lockSqliteFile(file);
    restrictSqliteFiles(file);
  }
  let db: ReturnType<typeof connectSqlite>;
  try {
    db = connectSqlite(file);
  } catch (err) {
    unlock();
    throw err;
  }
  const runner = statementRunner(db);
  const direct = directQueryable(runner);

  let locked = false;
  const waiters: Array<() => void> = [];
  const acquire = (): Promise<void> | undefined => {
    if (!locked) {
      locked = true;
      return undefined;
    }
    return new Promise((resolve) => waiters.push(resolve));
  };
  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else locked = false;
  };
  async function locked1<T>(fn: () => Promise<T>): Promise<T> {
    const wait = acquire();
    if (wait) await wait;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** A single statement: run at once when no transaction is open (the common case), else queue. */
  function single<T>(run: () => T): Promise<T> {
    if (locked) return locked1(async () => run());
    try {
      return Promise.resolve(run());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  return {
    dialect: 'sqlite',
    url,
    all: <T = Row>(sql: string, params?: unknown[]) => single(() => runner.all<T>(sql, params)),
    get: <T = Row>(sql: string, params?: unknown[]) => single(() => runner.get<T>(sql, params)),
    run: (sql, params) => single(() => runner.run(sql, params)),
    readNow: <T = Row>(sql: string, params?: unknown[]) => (locked ? BUSY : runner.get<T>(sql, params)),
    tx: (fn) =>
      locked1(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }),
    close: async () => {
      db.close();
      unlock();
    },
  };
}
