import type { Database } from './types.ts';

export type { Database, Queryable, Row } from './types.ts';
export { BUSY, isUniqueViolation } from './types.ts';

/**
 * Opens the database the URL names; each driver is loaded only when used. `exclusive` (the gateway):
 * on SQLite, refuse to open a file another process serves (see lockSqliteFile).
 */
export async function openDatabase(url: string, opts: { exclusive?: boolean } = {}): Promise<Database> {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return (await import('./postgres.ts')).openPostgres(url);
  if (url.startsWith('sqlite:')) return (await import('./sqlite.ts')).openSqlite(url, opts);
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:)`);
}
