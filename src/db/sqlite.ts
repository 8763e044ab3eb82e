import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database, Queryable, Row } from './types.ts';

/**
 * One better-sqlite3 connection. Calls are synchronous, so a transaction whose callback awaits would let
 * other requests' statements join it; every call therefore goes through one FIFO lock (free fast path).
 */
export async function openSqlite(url: string): Promise<Database> {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');

  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const norm = (params: unknown[] = []) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p === undefined ? null : p));

  function runSync(sql: string, params?: unknown[]) {
    const stmt = prepare(sql);
    if (stmt.reader) return { changes: stmt.all(...norm(params)).length };
    return { changes: stmt.run(...norm(params)).changes };
  }

  const direct: Queryable = {
    async all<T = Row>(sql: string, params?: unknown[]) {
      return prepare(sql).all(...norm(params)) as T[];
    },
    async get<T = Row>(sql: string, params?: unknown[]) {
      return prepare(sql).get(...norm(params)) as T | undefined;
    },
    async run(sql: string, params?: unknown[]) {
      return runSync(sql, params);
    },
  };

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
    all: <T = Row>(sql: string, params?: unknown[]) => single(() => prepare(sql).all(...norm(params)) as T[]),
    get: <T = Row>(sql: string, params?: unknown[]) => single(() => prepare(sql).get(...norm(params)) as T | undefined),
    run: (sql, params) => single(() => runSync(sql, params)),
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
    },
  };
}
