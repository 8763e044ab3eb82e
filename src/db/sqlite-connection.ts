import BetterSqlite3 from 'better-sqlite3';
import type { Queryable, Row } from './types.ts';

/** Opens a connection with the settings every MoleAPI connection uses. */
export function connectSqlite(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // A checkpoint (pages copied back + fsync) stalls every request in flight for a few ms. At the
  // default of 1000 WAL pages that hits over 1% of requests under load and sets the p99; every
  // 10000 pages (≤ 40 MB of WAL) it is rarer, and cheaper per commit since hot pages are copied once.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
  return db;
}

const norm = (params: unknown[] = []) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p === undefined ? null : p));

/** Synchronous statement helpers over one connection, with a prepared-statement cache. */
export function statementRunner(db: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  return {
    all: <T = Row>(sql: string, params?: unknown[]) => prepare(sql).all(...norm(params)) as T[],
    get: <T = Row>(sql: string, params?: unknown[]) => prepare(sql).get(...norm(params)) as T | undefined,
    run(sql: string, params?: unknown[]) {
      const stmt = prepare(sql);
      if (stmt.reader) return { changes: stmt.all(...norm(params)).length };
      return { changes: stmt.run(...norm(params)).changes };
    },
  };
}

/** The runner as a Queryable: every call has already run when its promise is returned. */
export function directQueryable(r: ReturnType<typeof statementRunner>): Queryable {
  return {
    all: async (sql, params) => r.all(sql, params),
    get: async (sql, params) => r.get(sql, params),
    run: async (sql, params) => r.run(sql, params),
  };
}
