import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { findUserById, publicUser, userFromRow } from '../../accounts/users.ts';
import { InsufficientBalanceError, postEntry } from '../../ledger/entries.ts';
import { money } from '../../lib/money.ts';
import { settingsSchema } from '../../settings/store.ts';
import { alertThresholds } from '../../wallet/alert-thresholds.ts';
import { balanceAlertsAfterEntry } from '../../wallet/balance-alerts.ts';
import { loadSmtpSettings } from '../../wallet/smtp-settings.ts';
import { topupSettingsProblem } from '../../wallet/topup-settings.ts';
import { ApiError, routes } from '../common.ts';
import { IdParam, IsoTime, json, jsonBody, Money, page, Pagination, SESSION, sessionErrors } from '../schemas.ts';
import { UserSchema } from './auth.ts';
import { LedgerEntrySchema, publicEntry } from './wallet.ts';

export const adjustSchema = z.object({
  quota: z
    .number()
    .int()
    .min(-1e15)
    .max(1e15)
    .refine((v) => v !== 0, 'quota must not be 0')
    .openapi({ description: 'Integer points to add (negative: take away; refused if it would overdraw)' }),
  reason: z.string().trim().min(1, 'give a reason').max(500),
});

export const userPatchSchema = z.object({ enabled: z.boolean() }).strict();

// Rebuilt from the shape: settingsSchema is made before zod is extended with .openapi().
const SettingsSchema = z.object(settingsSchema.shape).openapi('Settings');
const AdminUser = UserSchema.extend({ enabled: z.boolean(), balance: Money, used: Money, requestCount: z.number().int(), createdAt: IsoTime }).openapi('AdminUser');
const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\w.:-]{1,128}$/, '1–128 letters, digits, _ . : -')
    .optional()
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, description: 'The same key never applies twice' }),
});

/** The admin's view of a user: the public fields plus state and money. */
function adminUserView(r: Record<string, any>): z.infer<typeof AdminUser> {
  return {
    ...publicUser(userFromRow(r)),
    enabled: Number(r.enabled) === 1,
    balance: money(Number(r.balance)),
    used: money(Number(r.used)),
    requestCount: Number(r.request_count),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  };
}

const base = { tags: ['admin'], security: SESSION };
const r = {
  getSettings: createRoute({ ...base, method: 'get', path: '/settings', summary: 'Operator settings', responses: { 200: json(SettingsSchema), ...sessionErrors } }),
  patchSettings: createRoute({
    ...base,
    method: 'patch',
    path: '/settings',
    summary: 'Change operator settings',
    request: { body: jsonBody(settingsSchema.partial().strict()) },
    responses: { 200: json(SettingsSchema), ...sessionErrors },
  }),
  listUsers: createRoute({
    ...base,
    method: 'get',
    path: '/users',
    summary: 'Search users by username or email',
    request: { query: Pagination.extend({ search: z.string().max(254).optional() }) },
    responses: { 200: json(page(AdminUser)), ...sessionErrors },
  }),
  patchUser: createRoute({
    ...base,
    method: 'patch',
    path: '/users/{id}',
    summary: 'Enable or disable a user (disabling ends their sessions; their keys get 401)',
    request: { params: IdParam, body: jsonBody(userPatchSchema) },
    responses: { 200: json(AdminUser), ...sessionErrors },
  }),
  adjust: createRoute({
    ...base,
    method: 'post',
    path: '/users/{id}/adjust',
    summary: 'Adjust a balance (a ledger entry); Idempotency-Key header makes retries safe',
    request: { params: IdParam, headers: IdempotencyHeader, body: jsonBody(adjustSchema) },
    responses: {
      201: json(z.object({ entry: LedgerEntrySchema, duplicate: z.literal(false) }), 'Applied'),
      200: json(z.object({ entry: LedgerEntrySchema, duplicate: z.literal(true) }), 'Already applied under this Idempotency-Key'),
      ...sessionErrors,
    },
  }),
};

export const adminUserRoutes = routes()
  .openapi(r.getSettings, (c) => c.json(c.get('gw').settings.current, 200))
  .openapi(r.patchSettings, async (c) => {
    const gw = c.get('gw');
    const patch = c.req.valid('json');
    if (patch.defaultGroup !== undefined && !gw.pricing.groups.has(patch.defaultGroup)) {
      throw new ApiError(400, 'invalid_group', `Group "${patch.defaultGroup}" does not exist.`);
    }
    const topupProblem = topupSettingsProblem({ ...gw.settings.current, ...patch });
    if (topupProblem) throw new ApiError(400, 'invalid_request', topupProblem.message, {}, [{ path: [topupProblem.field], message: topupProblem.message }]);
    // Verification mails go through SMTP: turning it on without SMTP would leave new accounts stuck.
    if (patch.emailVerificationRequired === true && !(await loadSmtpSettings(gw.db, gw.secrets))) {
      throw new ApiError(400, 'smtp_not_configured', 'emailVerificationRequired needs the SMTP settings first (PUT /api/admin/smtp).', {}, [{ path: ['emailVerificationRequired'], message: 'SMTP is not configured' }]);
    }
    const next = await gw.settings.update(patch);
    await gw.bus.publish('settings');
    return c.json(next, 200);
  })
  .openapi(r.listUsers, async (c) => {
    const gw = c.get('gw');
    const { page, pageSize, search = '' } = c.req.valid('query');
    const like = `%${search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    // LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
    const where = search ? `WHERE LOWER(username) LIKE LOWER(?) ESCAPE '\\' OR LOWER(email) LIKE LOWER(?) ESCAPE '\\'` : '';
    const params = search ? [like, like] : [];
    const [rows, total] = await Promise.all([
      gw.db.all(`SELECT * FROM users ${where} ORDER BY id DESC LIMIT ? OFFSET ?`, [...params, pageSize, (page - 1) * pageSize]),
      gw.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM users ${where}`, params),
    ]);
    return c.json({ items: rows.map(adminUserView), total: Number(total?.n ?? 0), page, pageSize }, 200);
  })
  .openapi(r.patchUser, async (c) => {
    const gw = c.get('gw');
    const { id } = c.req.valid('param');
    const b = c.req.valid('json');
    const target = await findUserById(gw.db, id);
    if (!target) throw new ApiError(404, 'not_found', 'No such user.');
    if (!b.enabled && (target.role === 'root' || target.id === c.get('user').id)) {
      throw new ApiError(403, 'forbidden', 'The root account and your own account cannot be disabled.');
    }
    await gw.db.run('UPDATE users SET enabled = ? WHERE id = ?', [b.enabled ? 1 : 0, id]);
    // Sessions check `enabled` on every request; the keys' cached copies are dropped everywhere.
    if (!b.enabled) await gw.db.run('DELETE FROM sessions WHERE user_id = ?', [id]);
    await gw.bus.publish('keys', '');
    return c.json(adminUserView((await gw.db.get('SELECT * FROM users WHERE id = ?', [id]))!), 200);
  })
  .openapi(r.adjust, async (c) => {
    const gw = c.get('gw');
    const { id } = c.req.valid('param');
    const b = c.req.valid('json');
    if (!(await findUserById(gw.db, id))) throw new ApiError(404, 'not_found', 'No such user.');
    const idem = c.req.valid('header')['idempotency-key'];
    // The reference makes a retried request with the same Idempotency-Key apply once.
    const reference = idem ? `adjust:${id}:${idem}` : `adjust:${id}:${randomUUID()}`;
    const admin = c.get('user');
    try {
      // The balance alert the entry crosses into is enqueued in the entry's own transaction: it exists
      // exactly when the adjustment does (a retried request applies nothing, so adds none).
      const { entry, duplicate } = await postEntry(
        gw.db,
        { userId: id, kind: 'adjustment', amount: b.quota, reference, note: `${b.reason} (by ${admin.username})` },
        { afterApply: (q, applied) => balanceAlertsAfterEntry(q, applied, alertThresholds(gw.db)) },
      );
      if (!duplicate && entry.amount < 0) gw.outbox.kick();
      const view = publicEntry(entry);
      return duplicate ? c.json({ entry: view, duplicate: true as const }, 200) : c.json({ entry: view, duplicate: false as const }, 201);
    } catch (err) {
      if (err instanceof InsufficientBalanceError) {
        throw new ApiError(400, 'insufficient_balance', 'This adjustment would take the available balance below zero.');
      }
      throw err;
    }
  });
