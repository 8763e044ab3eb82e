// Email and alerts: the admin's SMTP settings with a test email, and each user's notification
// settings (GET/PUT /api/me/notifications) with a test message.
import { createRoute, z } from '@hono/zod-openapi';
import type { Gateway } from '../../gateway.ts';
import { checkTarget, checkTargetReachable, isEmailAddress, NOTIFY_METHODS, NotifyError, renderAlert, sendNotification, type NotifyTarget } from '../../notify/index.ts';
import { alertThresholds } from '../../wallet/alert-thresholds.ts';
import { alertSettingsView, loadAlertSettings, saveAlertSettings, targetOf, type AlertSettings } from '../../wallet/alert-settings.ts';
import { loadSmtpSettings, saveSmtpSettings, sendWithSmtp, smtpSettingsSchema, smtpView } from '../../wallet/smtp-settings.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { ErrorBody, json, jsonBody, SESSION, sessionErrors } from '../schemas.ts';

const sendFailed = { 422: { description: 'The message could not be sent (`send_failed`; the message says why)', content: { 'application/json': { schema: ErrorBody } } } };
const MASK = z.string().nullable().openapi({ description: 'Write-only: "********" when set, null when not' });

const SmtpSchema = z
  .object({ host: z.string(), port: z.number().int(), security: z.enum(['tls', 'starttls', 'none']), user: z.string().nullable(), password: MASK, from: z.string() })
  .openapi('SmtpSettings');
const SmtpBody = z.object(smtpSettingsSchema.shape).strict().openapi('SmtpSettingsInput', {
  description: 'security: tls (TLS from the first byte, usually 465), starttls (required STARTTLS, 587), none (no TLS). An omitted password keeps the stored one; null or "" clears it.',
});

const Method = z.enum(NOTIFY_METHODS as ['email', 'webhook', 'bark', 'gotify']);
const Url = z.string().max(2048).nullable().optional();
const NotificationsSchema = z
  .object({
    method: Method,
    thresholdQuota: z.number().int().openapi({ description: 'Alert when the balance falls below this many points (0 = no balance alerts)' }),
    email: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    webhookSecret: MASK,
    barkUrl: z.string().nullable(),
    gotifyUrl: z.string().nullable(),
    gotifyToken: MASK,
    gotifyPriority: z.number().int().nullable(),
  })
  .openapi('NotificationSettings');
const NotificationsBody = z
  .object({
    method: Method,
    thresholdQuota: z.number().int().min(0).max(1e13).optional().openapi({ description: 'Default: the stored value, else the admin setting alertThresholdQuota' }),
    email: z.string().max(254).nullable().optional(),
    webhookUrl: Url,
    webhookSecret: z.string().max(256).nullable().optional().openapi({ description: 'Write-only; omitted keeps the stored one, null clears it' }),
    barkUrl: Url,
    gotifyUrl: Url,
    gotifyToken: z.string().max(256).nullable().optional().openapi({ description: 'Write-only; omitted keeps the stored one, null clears it' }),
    gotifyPriority: z.number().int().min(0).max(10).nullable().optional(),
  })
  .strict()
  .openapi('NotificationSettingsInput');

const admin = { tags: ['admin'], security: SESSION };
const me = { tags: ['notifications'], security: SESSION, middleware: [requireUser] };
const r = {
  getSmtp: createRoute({ ...admin, method: 'get', path: '/smtp', summary: 'SMTP settings (password masked; null when not set)', responses: { 200: json(SmtpSchema.nullable()), ...sessionErrors } }),
  putSmtp: createRoute({ ...admin, method: 'put', path: '/smtp', summary: 'Set the SMTP settings (password sealed at rest)', request: { body: jsonBody(SmtpBody) }, responses: { 200: json(SmtpSchema), ...sessionErrors } }),
  testSmtp: createRoute({
    ...admin,
    method: 'post',
    path: '/smtp/test',
    summary: 'Send a test email now with the stored SMTP settings',
    request: { body: jsonBody(z.object({ to: z.string().max(254) }).strict()) },
    responses: { 200: json(z.object({ sent: z.literal(true) })), ...sessionErrors, ...sendFailed },
  }),
  getMine: createRoute({ ...me, method: 'get', path: '/me/notifications', summary: 'My alert settings (404 when never set)', responses: { 200: json(NotificationsSchema), ...sessionErrors } }),
  putMine: createRoute({
    ...me,
    method: 'put',
    path: '/me/notifications',
    summary: 'Set my alert settings; receiver URLs on private or loopback addresses are refused unless the admin allows them',
    request: { body: jsonBody(NotificationsBody) },
    responses: { 200: json(NotificationsSchema), ...sessionErrors },
  }),
  testMine: createRoute({
    ...me,
    method: 'post',
    path: '/me/notifications/test',
    summary: 'Send a test message now with my stored settings',
    responses: { 200: json(z.object({ sent: z.literal(true) })), ...sessionErrors, ...sendFailed },
  }),
};

const fieldError = (field: string, message: string) => new ApiError(400, 'invalid_request', `${field}: ${message}`, {}, [{ path: [field], message }]);
const deps = (gw: Gateway) => ({ db: gw.db, secrets: gw.secrets, settings: gw.settings });

async function sendOrFail(send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (err) {
    if (err instanceof NotifyError) throw new ApiError(422, 'send_failed', err.message);
    throw err;
  }
}

export const adminSmtpRoutes = routes()
  .openapi(r.getSmtp, async (c) => c.json(smtpView(await loadSmtpSettings(c.get('gw').db, c.get('gw').secrets)), 200))
  .openapi(r.putSmtp, async (c) => {
    const gw = c.get('gw');
    const saved = await saveSmtpSettings(gw.db, gw.secrets, c.req.valid('json'));
    return c.json(smtpView(saved)!, 200);
  })
  .openapi(r.testSmtp, async (c) => {
    const gw = c.get('gw');
    const { to } = c.req.valid('json');
    if (!isEmailAddress(to)) throw fieldError('to', 'must be an email address');
    await sendOrFail(() =>
      sendWithSmtp(deps(gw), { to, subject: 'MoleAPI: test email', text: 'This is a test email from your MoleAPI gateway. Its SMTP settings work.' }),
    );
    return c.json({ sent: true as const }, 200);
  });

/** The other methods' fields are kept as given, but checked for syntax too (a bad URL is never stored). */
function syntaxProblems(s: AlertSettings) {
  const candidates: NotifyTarget[] = [];
  if (s.email) candidates.push({ method: 'email', email: s.email });
  if (s.webhookUrl) candidates.push({ method: 'webhook', webhookUrl: s.webhookUrl, webhookSecret: s.webhookSecret });
  if (s.barkUrl) candidates.push({ method: 'bark', barkUrl: s.barkUrl });
  if (s.gotifyUrl) candidates.push({ method: 'gotify', gotifyUrl: s.gotifyUrl, gotifyToken: s.gotifyToken ?? 'x', gotifyPriority: s.gotifyPriority });
  for (const t of candidates) {
    const p = checkTarget(t);
    if (p) return p;
  }
  return null;
}

export const notificationRoutes = routes()
  .openapi(r.getMine, async (c) => {
    const gw = c.get('gw');
    const s = await loadAlertSettings(gw.db, gw.secrets, c.get('user').id);
    if (!s) throw new ApiError(404, 'not_found', 'No notification settings yet (PUT /api/me/notifications).');
    return c.json(alertSettingsView(s), 200);
  })
  .openapi(r.putMine, async (c) => {
    const gw = c.get('gw');
    const userId = c.get('user').id;
    const b = c.req.valid('json');
    const current = await loadAlertSettings(gw.db, gw.secrets, userId);
    const pick = <K extends keyof AlertSettings>(k: K): AlertSettings[K] => (b[k as keyof typeof b] === undefined ? (current?.[k] ?? null) : (b[k as keyof typeof b] ?? null)) as AlertSettings[K];
    const next: AlertSettings = {
      method: b.method,
      thresholdQuota: b.thresholdQuota ?? current?.thresholdQuota ?? gw.settings.current.alertThresholdQuota,
      email: pick('email'),
      webhookUrl: pick('webhookUrl'),
      webhookSecret: pick('webhookSecret') || null,
      barkUrl: pick('barkUrl'),
      gotifyUrl: pick('gotifyUrl'),
      gotifyToken: pick('gotifyToken') || null,
      gotifyPriority: pick('gotifyPriority'),
    };
    const problem = (await checkTargetReachable(targetOf(next), gw.settings.current.allowPrivateWebhooks)) ?? syntaxProblems(next);
    if (problem) throw fieldError(problem.field, problem.message.replace(new RegExp(`^${problem.field}:? `), ''));
    await saveAlertSettings(gw.db, gw.secrets, userId, next);
    alertThresholds(gw.db)?.set(userId, next.thresholdQuota);
    await gw.bus.publish('alerts', String(userId));
    return c.json(alertSettingsView(next), 200);
  })
  .openapi(r.testMine, async (c) => {
    const gw = c.get('gw');
    const s = await loadAlertSettings(gw.db, gw.secrets, c.get('user').id);
    if (!s) throw new ApiError(400, 'not_configured', 'Set your notification settings first (PUT /api/me/notifications).');
    const smtp = s.method === 'email' ? await loadSmtpSettings(gw.db, gw.secrets) : null;
    await sendOrFail(() => sendNotification(targetOf(s), renderAlert({ type: 'test' }), { smtp, allowPrivate: gw.settings.current.allowPrivateWebhooks }));
    return c.json({ sent: true as const }, 200);
  });
