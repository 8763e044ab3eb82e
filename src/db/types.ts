export type Row = Record<string, any>;

export const BUSY = Symbol('busy');
export type Dialect = 'sqlite' | 'postgres';

/** The three calls every query goes through. SQL uses `?` placeholders for both dialects. */
export interface Queryable {
  all<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: unknown[]): Promise<T | undefined>;
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
}

export interface Database extends Queryable {
  readonly dialect: Dialect;
  readonly url: string;
  /** Runs fn in one transaction; a throw rolls it back. Never nest. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * SQLite only: reads committed data synchronously, or returns BUSY while a transaction is open
   * (its uncommitted writes would be visible on the shared connection).
   */
  readNow?<T = Row>(sql: string, params?: unknown[]): T | undefined | typeof BUSY;
  /**
   * PostgreSQL only: single statements whose commit does not wait for the disk (synchronous_commit
   * off), for reservations that a database crash may lose without harm (holds). Never for money.
   */
  relaxed?: Queryable;
  close(): Promise<void>;
}

/** True when err is a unique-constraint violation in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
