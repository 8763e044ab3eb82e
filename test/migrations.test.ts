// Several instances starting at once on one fresh PostgreSQL database: one applies the migrations, the
// others wait on an advisory lock and find them done. (SQLite has one owning process by design.)
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { freshDatabase } from './helpers/gateway.ts';

describe.skipIf(!process.env.TEST_DATABASE_URL)('migrations on PostgreSQL', () => {
  it('run at the same moment by three instances, are applied exactly once', async () => {
    const fresh = await freshDatabase();
    const dbs = await Promise.all([1, 2, 3].map(() => openDatabase(fresh.url)));
    try {
      const applied = await Promise.all(dbs.map((db) => migrate(db)));
      expect(applied.filter((n) => n > 0)).toHaveLength(1);
      expect(applied.reduce((a, b) => a + b, 0)).toBe(Math.max(...applied));
      const rows = await dbs[0]!.all<{ n: number }>('SELECT COUNT(*) AS n FROM groups');
      expect(Number(rows[0]!.n)).toBe(1); // the seed row, inserted once
      expect(await migrate(dbs[1]!)).toBe(0);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await fresh.drop();
    }
  });
});
