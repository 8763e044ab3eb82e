import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../accounts/passwords.ts';
import { createSession, deleteOtherSessions, deleteSession, SESSION_COOKIE } from '../../accounts/sessions.ts';
import { createUser, findUserByAffCode, findUserByName, publicUser, userFromRow, UsernameTakenError } from '../../accounts/users.ts';
import { clientIp } from '../../lib/ip.ts';
import { ApiError, body, requireUser, type Env } from '../common.ts';

const username = z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/, 'username must be 3–32 letters, digits, _ . or -');
export const registerSchema = z.object({
  username,
  password: z.string().min(8, 'password must be at least 8 characters').max(256),
  email: z.email().max(254).optional().nullable(),
  inviteCode: z.string().max(64).optional().nullable(),
});
export const passwordSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(8, 'password must be at least 8 characters').max(256),
});
export const loginSchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });

// Keeps login timing the same whether or not the username exists.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export const authRoutes = new Hono<Env>()
  .post('/auth/register', async (c) => {
    const gw = c.get('gw');
    const settings = gw.settings.current;
    if (!settings.registrationEnabled) throw new ApiError(403, 'registration_closed', 'Registration is turned off on this gateway.');
    const b = await body(c, registerSchema);
    let inviterId: number | null = null;
    if (b.inviteCode) {
      const inviter = await findUserByAffCode(gw.db, b.inviteCode);
      if (!inviter) throw new ApiError(400, 'invalid_invite_code', 'That invite code does not exist.');
      inviterId = inviter.id;
    }
    try {
      const user = await createUser(gw.db, {
        username: b.username,
        password: b.password,
        email: b.email ?? null,
        group: settings.defaultGroup,
        inviterId,
        trialQuota: settings.trialQuota,
      });
      return c.json({ user: publicUser(user) }, 201);
    } catch (err) {
      if (err instanceof UsernameTakenError) throw new ApiError(409, 'username_taken', 'That username is already taken.');
      throw err;
    }
  })
  .post('/auth/login', async (c) => {
    const gw = c.get('gw');
    const b = await body(c, loginSchema);
    // No raw request when the app is called without node:http (app.fetch): all such calls share one IP bucket.
    const ip = c.env?.incoming ? clientIp(c.env.incoming, gw.config.TRUST_PROXY) : '';
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
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: ttlMs / 1000, secure: c.req.url.startsWith('https:') });
    return c.json({ user: publicUser(user) });
  })
  .post('/auth/logout', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await deleteSession(c.get('gw').db, token);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  })
  .get('/me', requireUser, (c) => c.json(publicUser(c.get('user'))))
  .post('/me/password', requireUser, async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const b = await body(c, passwordSchema);
    const row = await findUserByName(gw.db, user.username);
    if (!row || !(await verifyPassword(b.currentPassword, row.password_hash))) {
      throw new ApiError(401, 'invalid_credentials', 'The current password is wrong.');
    }
    await gw.db.run('UPDATE users SET password_hash = ? WHERE id = ?', [await hashPassword(b.newPassword), user.id]);
    // Other sessions end: a changed password should lock out whoever else was logged in.
    const token = getCookie(c, SESSION_COOKIE);
    await deleteOtherSessions(gw.db, user.id, token ?? '');
    return c.json({ ok: true });
  });
