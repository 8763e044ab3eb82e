import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, type Queryable } from '../db/index.ts';
import { knownMigrationIds } from '../db/migrations.ts';
import { directQueryable, statementRunner } from '../db/sqlite-connection.ts';
import { auditLedger, type AuditResult } from '../ledger/audit.ts';

// ledger:check is a checker: it never migrates or writes. SQLite is opened read-only; PostgreSQL reads
// in one READ ONLY, REPEATABLE READ transaction, so every check sees the same snapshot of a live system.

export interface LedgerCheckOutcome {
  /** 0 clean, 1 problems found, 2 could not check (no database, not migrated). */
  code: 0 | 1 | 2;
  lines: string[];
}

class Refused extends Error {}

async function missingMigrations(q: Queryable): Promise<number[]> {
  let applied: Set<number>;
  try {
    applied = new Set((await q.all<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
  } catch {
    applied = new Set();
  }
  return knownMigrationIds().filter((id) => !applied.has(id));
}

async function audit(q: Queryable): Promise<AuditResult> {
  const missing = await missingMigrations(q);
  if (missing.length) {
    throw new Refused(
      `the database is not migrated (missing migration${missing.length > 1 ? 's' : ''} ${missing.join(', ')}); ` +
        'start the gateway once (it migrates at start) and run ledger:check again. ledger:check never changes the database.',
    );
  }
  return auditLedger(q);
}

async function auditSqlite(url: string): Promise<AuditResult> {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  if (file === ':memory:' || !existsSync(file)) throw new Refused(`no database file at ${file}`);
  const conn = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    conn.pragma('busy_timeout = 5000');
    conn.exec('BEGIN'); // one read snapshot for every check
    try {
      return await audit(directQueryable(statementRunner(conn)));
    } finally {
      conn.exec('COMMIT');
    }
  } finally {
    conn.close();
  }
}

async function auditPostgres(url: string): Promise<AuditResult> {
  const db = await openDatabase(url);
  try {
    return await db.tx(async (q) => {
      await q.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return audit(q);
    });
  } finally {
    await db.close();
  }
}

export async function runLedgerCheck(url: string): Promise<LedgerCheckOutcome> {
  let result: AuditResult;
  try {
    result = url.startsWith('sqlite:') ? await auditSqlite(url) : await auditPostgres(url);
  } catch (err) {
    if (err instanceof Refused) return { code: 2, lines: [`ledger:check REFUSED: ${err.message}`] };
    throw err;
  }
  const { users, keys, problems } = result;
  if (!problems.length) {
    return {
      code: 0,
      lines: [
        `ledger:check OK: ${users} accounts, ${keys} keys; every balance equals its ledger entries minus its usage-log costs, ` +
          'used equals the usage-log costs, every hold amount >= 0 (held = the sum of the hold rows)',
      ],
    };
  }
  return {
    code: 1,
    lines: [
      `ledger:check FAILED: ${problems.length} problem${problems.length > 1 ? 's' : ''} (${users} accounts, ${keys} keys checked)`,
      ...problems.map((p) => `  ${p.account}: ${p.check} does not hold: ${p.found} vs ${p.expected}`),
    ],
  };
}
