import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { hashPassword, verifyPassword } from '../../accounts/passwords.ts';
import { RegistrationLimitError, registrationBucket } from '../../accounts/registration-limit.ts';
import { createSession, deleteOtherSessions, deleteSession, SESSION_COOKIE } from '../../accounts/sessions.ts';
import { createUser, findUserByAffCode, findUserByName, publicUser, userFromRow, UsernameTakenError } from '../../accounts/users.ts';
import { clientIp } from '../../lib/ip.ts';
import { ApiError, requireUser, routes, type Env } from '../common.ts';
import { enqueue } from '../../outbox/index.ts';
import { emailVerifiedElsewhere, verificationEntry } from '../../wallet/email-verification.ts';
import { publicBase } from './referral.ts';
import { ErrorBody, errorResponses, json, jsonBody, Ok, SESSION, sessionErrors } from '../schemas.ts';

const username = z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/, 'username must be 3–32 letters, digits, _ . or -');
export const registerSchema = z.object({
  username: username.openapi({ description: 'Unique without regard to case', example: 'dev' }),
  password: z.string().min(8, 'password must be at least 8 characters').max(256),
  email: z.email().max(254).optional().nullable(),
  inviteCode: z
    .string()
    .max(64)
    .optional()
    .nullable()
    .openapi({ description: "An existing user's invite code (their `code` in GET /api/wallet/referral); unknown → 400 `invalid_invite_code`" }),
});
export const passwordSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(8, 'password must be at least 8 characters').max(256),
});
export const loginSchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });

export const UserSchema = z
  .object({ id: z.number().int(), username: z.string(), email: z.string().nullable(), role: z.enum(['user', 'admin', 'root']), group: z.string() })
  .openapi('User');
const UserAnswer = z.object({ user: UserSchema });

const tooMany = (description: string) => ({ 429: { description, headers: { 'Retry-After': { schema: { type: 'integer' as const } } }, content: { 'application/json': { schema: ErrorBody } } } });

// Keeps login timing the same whether or not the username exists.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** The caller's address; '' (one shared bucket) when the app runs without node:http (app.fetch). */
export function callerIp(c: Context<Env>): string {
  return c.env?.incoming ? clientIp(c.env.incoming, c.get('gw').config.TRUST_PROXY) : '';
}

/** Secure when configured, or when the caller reached us over HTTPS (directly, or via a trusted proxy). */
function cookieSecure(c: Context<Env>): boolean {
  const { COOKIE_SECURE, TRUST_PROXY } = c.get('gw').config;
  if (COOKIE_SECURE !== 'auto') return COOKIE_SECURE === 'true';
  if (c.req.url.startsWith('https:')) return true;
  return TRUST_PROXY && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

const register = createRoute({
  method: 'post',
  path: '/auth/register',
  summary: 'Register; the new account receives the trial credit',
  description: 'Limited per client address (setting `registrationsPerIpPerHour`; an IPv6 /64 counts as one address).',
  tags: ['accounts'],
  security: [],
  request: { body: jsonBody(registerSchema) },
  responses: {
    201: json(UserAnswer, 'Created'),
    ...errorResponses,
    409: { description: 'The username is taken (`username_taken`), whatever its case', content: { 'application/json': { schema: ErrorBody } } },
    ...tooMany('Too many registrations from this address (`too_many_registrations`)'),
  },
});
const login = createRoute({
  method: 'post',
  path: '/auth/login',
  summary: 'Log in (username without regard to case); sets the HttpOnly session cookie',
  tags: ['accounts'],
  security: [],
  request: { body: jsonBody(loginSchema) },
  responses: {
    200: json(UserAnswer),
    ...errorResponses,
    401: { description: 'Wrong username or password', content: { 'application/json': { schema: ErrorBody } } },
    ...tooMany('Too many failed logins (`too_many_attempts`)'),
  },
});
const logout = createRoute({ method: 'post', path: '/auth/logout', summary: 'End the session', tags: ['accounts'], security: SESSION, responses: { 200: json(Ok), ...errorResponses } });
const me = createRoute({ method: 'get', path: '/me', summary: 'The logged-in user', tags: ['accounts'], security: SESSION, middleware: [requireUser], responses: { 200: json(UserSchema), ...sessionErrors } });
const password = createRoute({
  method: 'post',
  path: '/me/password',
  summary: 'Change the password; other sessions end',
  tags: ['accounts'],
  security: SESSION,
  middleware: [requireUser],
  request: { body: jsonBody(passwordSchema) },
  responses: { 200: json(Ok), ...sessionErrors },
});

export const authRoutes = routes()
  .openapi(register, async (c) => {
    const gw = c.get('gw');
    const settings = gw.settings.current;
    if (!settings.registrationEnabled) throw new ApiError(403, 'registration_closed', 'Registration is turned off on this gateway.');
    const b = c.req.valid('json');
    let inviterId: number | null = null;
    if (b.inviteCode) {
      const inviter = await findUserByAffCode(gw.db, b.inviteCode);
      if (!inviter) throw new ApiError(400, 'invalid_invite_code', 'That invite code does not exist.');
      inviterId = inviter.id;
    }
    // Email verification: an email is required, and the trial credit and the inviter's reward wait
    // for the link (src/wallet/email-verification.ts).
    const verify = settings.emailVerificationRequired;
    if (verify && !b.email) throw new ApiError(400, 'invalid_request', 'email: required on this gateway (it is verified before the trial credit)', {}, [{ path: ['email'], message: 'required' }]);
    if (verify && (await emailVerifiedElsewhere(gw.db, b.email!))) throw new ApiError(409, 'email_taken', 'This email address is already verified by another account.');
    try {
      const user = await createUser(gw.db, {
        username: b.username,
        password: b.password,
        email: b.email ?? null,
        group: settings.defaultGroup,
        inviterId,
        trialQuota: verify ? 0 : settings.trialQuota,
        referralRewardQuota: verify ? 0 : settings.referralRewardQuota,
        registration: { bucket: registrationBucket(callerIp(c)), perHour: settings.registrationsPerIpPerHour },
      });
      if (verify) {
        await enqueue(gw.db, verificationEntry(user.id, publicBase(c)));
        gw.outbox.kick();
      }
      return c.json({ user: publicUser(user) }, 201);
    } catch (err) {
      if (err instanceof UsernameTakenError) throw new ApiError(409, 'username_taken', 'That username is already taken.');
      if (err instanceof RegistrationLimitError) {
        const wait = err.retryAfterSeconds;
        throw new ApiError(429, 'too_many_registrations', `Too many registrations from this address. Try again in ${wait} s.`, { 'retry-after': String(wait) });
      }
      throw err;
    }
  })
  .openapi(login, async (c) => {
    const gw = c.get('gw');
    const b = c.req.valid('json');
    const ip = callerIp(c);
    const wait = gw.loginThrottle.retryAfter(b.username, ip);
    if (wait > 0) {
      throw new ApiError(429, 'too_many_attempts', `Too many failed logins. Try again in ${wait} s.`, { 'retry-after': String(wait) });
    }
    const row = await findUserByName(gw.db, b.username);
    const ok = await verifyPassword(b.password, row?.password_hash ?? DUMMY_HASH);
    if (!row || !ok) {
      gw.loginThrottle.failed(b.username, ip);
      throw new ApiError(401, 'invalid_credentials', 'Wrong username or password.');
    }
    gw.loginThrottle.succeeded(b.username);
    const user = userFromRow(row);
    if (!user.enabled) throw new ApiError(403, 'account_disabled', 'This account is disabled.');
    const ttlMs = gw.config.SESSION_TTL_HOURS * 3600_000;
    const token = await createSession(gw.db, user.id, ttlMs);
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: ttlMs / 1000, secure: cookieSecure(c) });
    return c.json({ user: publicUser(user) }, 200);
  })
  .openapi(logout, async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await deleteSession(c.get('gw').db, token);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: cookieSecure(c) });
    return c.json({ ok: true as const }, 200);
  })
  .openapi(me, (c) => c.json(publicUser(c.get('user')), 200))
  .openapi(password, async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const b = c.req.valid('json');
    const row = await findUserByName(gw.db, user.username);
    if (!row || !(await verifyPassword(b.currentPassword, row.password_hash))) {
      throw new ApiError(401, 'invalid_credentials', 'The current password is wrong.');
    }
    await gw.db.run('UPDATE users SET password_hash = ? WHERE id = ?', [await hashPassword(b.newPassword), user.id]);
    // Other sessions end: a changed password should lock out whoever else was logged in.
    const token = getCookie(c, SESSION_COOKIE);
    await deleteOtherSessions(gw.db, user.id, token ?? '');
    return c.json({ ok: true as const }, 200);
  });
