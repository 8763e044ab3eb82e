import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { findUserById, publicUser, userFromRow } from '../../accounts/users.ts';
import { InsufficientBalanceError, postEntry } from '../../ledger/entries.ts';
import { money } from '../../lib/money.ts';
import { settingsSchema } from '../../settings/store.ts';
import { ApiError, body, intParam, pagination, type Env } from '../common.ts';
import { publicEntry } from './wallet.ts';

export const adjustSchema = z.object({
  quota: z.number().int().min(-1e15).max(1e15).refine((v) => v !== 0, 'quota must not be 0'),
  reason: z.string().trim().min(1, 'give a reason').max(500),
});

export const userPatchSchema = z.object({ enabled: z.boolean() }).strict();

/** The admin's view of a user: the public fields plus state and money. */
function adminUserView(r: Record<string, any>) {
  return {
    ...publicUser(userFromRow(r)),
    enabled: Number(r.enabled) === 1,
    balance: money(Number(r.balance)),
    used: money(Number(r.used)),
    requestCount: Number(r.request_count),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  };
}

export const adminUserRoutes = new Hono<Env>()
  .get('/settings', (c) => c.json(c.get('gw').settings.current))
  .patch('/settings', async (c) => {
    const gw = c.get('gw');
    const patch = await body(c, settingsSchema.partial().strict());
    if (patch.defaultGroup !== undefined && !gw.pricing.groups.has(patch.defaultGroup)) {
      throw new ApiError(400, 'invalid_group', `Group "${patch.defaultGroup}" does not exist.`);
    }
    const next = await gw.settings.update(patch);
    await gw.bus.publish('settings');
    return c.json(next);
  })
  .get('/users', async (c) => {
    const gw = c.get('gw');
    const { page, pageSize } = pagination(c);
    const search = c.req.query('search') ?? '';
    const like = `%${search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    // LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
    const where = search ? `WHERE LOWER(username) LIKE LOWER(?) ESCAPE '\\' OR LOWER(email) LIKE LOWER(?) ESCAPE '\\'` : '';
    const params = search ? [like, like] : [];
    const [rows, total] = await Promise.all([
      gw.db.all(`SELECT * FROM users ${where} ORDER BY id DESC LIMIT ? OFFSET ?`, [...params, pageSize, (page - 1) * pageSize]),
      gw.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM users ${where}`, params),
    ]);
    return c.json({ items: rows.map(adminUserView), total: Number(total?.n ?? 0), page, pageSize });
  })
  .patch('/users/:id', async (c) => {
    const gw = c.get('gw');
    const id = intParam(c, 'id');
    const b = await body(c, userPatchSchema);
    const target = await findUserById(gw.db, id);
    if (!target) throw new ApiError(404, 'not_found', 'No such user.');
    if (!b.enabled && (target.role === 'root' || target.id === c.get('user').id)) {
      throw new ApiError(403, 'forbidden', 'The root account and your own account cannot be disabled.');
    }
    await gw.db.run('UPDATE users SET enabled = ? WHERE id = ?', [b.enabled ? 1 : 0, id]);
    // Sessions check `enabled` on every request; the keys' cached copies are dropped everywhere.
    if (!b.enabled) await gw.db.run('DELETE FROM sessions WHERE user_id = ?', [id]);
    await gw.bus.publish('keys', '');
    return c.json(adminUserView((await gw.db.get('SELECT * FROM users WHERE id = ?', [id]))!));
  })
  .post('/users/:id/adjust', async (c) => {
    const gw = c.get('gw');
    const id = intParam(c, 'id');
    const b = await body(c, adjustSchema);
    if (!(await findUserById(gw.db, id))) throw new ApiError(404, 'not_found', 'No such user.');
    const idem = c.req.header('idempotency-key');
    if (idem !== undefined && !/^[\w.:-]{1,128}$/.test(idem)) throw new ApiError(400, 'invalid_request', 'Idempotency-Key: 1–128 letters, digits, _ . : -');
    // The reference makes a retried request with the same Idempotency-Key apply once.
    const reference = idem ? `adjust:${id}:${idem}` : `adjust:${id}:${randomUUID()}`;
    const admin = c.get('user');
    try {
      const { entry, duplicate } = await postEntry(gw.db, {
        userId: id,
        kind: 'adjustment',
        amount: b.quota,
        reference,
        note: `${b.reason} (by ${admin.username})`,
      });
      return c.json({ entry: publicEntry(entry), duplicate }, duplicate ? 200 : 201);
    } catch (err) {
      if (err instanceof InsufficientBalanceError) {
        throw new ApiError(400, 'insufficient_balance', 'This adjustment would take the available balance below zero.');
      }
      throw err;
    }
  });
