import { openPostgres } from './postgres.ts';
import { openSqlite } from './sqlite.ts';
import type { Database } from './types.ts';

export type { Database, Queryable, Row, Statement } from './types.ts';
export { isUniqueViolation } from './types.ts';

export function openDatabase(url: string): Promise<Database> {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return Promise.resolve(openPostgres(url));
  if (url.startsWith('sqlite:')) return openSqlite(url);
  return Promise.reject(new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:)`));
}
