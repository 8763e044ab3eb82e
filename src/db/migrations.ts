import { coreMigrations } from './schema/core.ts';
import type { Migration } from './schema/migration.ts';
import { relayMigrations } from './schema/relay.ts';
import { walletMigrations } from './schema/wallet.ts';
import type { Database } from './types.ts';

// Applied in id order (ids were given out in ranges to work done in parallel, not in merge order).
const migrations: Migration[] = [...coreMigrations, ...walletMigrations, ...relayMigrations].sort((a, b) => a.id - b.id);

// Any fixed number: instances starting at once on one PostgreSQL database queue on this lock, so only
// the first applies the migrations and the others then find them done.
const MIGRATION_LOCK = 0x6d6f6c65;

/**
 * Applies the migrations not yet applied, in one transaction; returns how many it applied.
 * `through` stops after that migration id (tests build an older schema with it).
 */
export async function migrate(db: Database, opts: { through?: number } = {}): Promise<number> {
  return db.tx(async (q) => {
    if (db.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await q.run(`CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const done = new Set((await q.all<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
    let applied = 0;
    for (const m of migrations) {
      if (done.has(m.id) || (opts.through !== undefined && m.id > opts.through)) continue;
      for (const sql of m.up(db.dialect)) await q.run(sql);
      await q.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [m.id, m.name, Date.now()]);
      applied++;
    }
    return applied;
  });
}

/** The ids of every migration this version knows (a checker refuses a database missing any). */
export const knownMigrationIds = (): number[] => migrations.map((m) => m.id);
