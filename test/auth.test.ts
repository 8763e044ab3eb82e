// Accounts and sessions over real HTTP: register, login, cookie session, logout, registration switch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/accounts/login-throttle.ts';
import { purgeExpiredSessions } from '../src/accounts/sessions.ts';
import { ApiClient } from './helpers/api.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let seq = 0;
const uniq = (p = 'au') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'correct-horse-42';

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

/** A request with an explicit Cookie header (or none), bypassing ApiClient's jar. */
async function rawGet(path: string, cookie?: string) {
  const res = await fetch(gw.url + path, { headers: cookie ? { cookie } : {} });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: res.status, body };
}

function expectApiError(res: { status: number; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ error: { message: expect.any(String), code: expect.any(String) } });
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

/** Walks a JSON value and returns every property name found. */
function allKeys(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), allKeys(x, out));
  return out;
}

function expectNoPassword(body: unknown, password: string) {
  expect(JSON.stringify(body)).not.toContain(password);
  for (const k of allKeys(body)) expect(k).not.toMatch(/password|salt|hash/i);
}

async function register(body: unknown) {
  return new ApiClient(gw.url).post('/api/auth/register', body);
}

describe('register', () => {
  it('creates a user with role user and group default (201)', async () => {
    const username = uniq();
    const res = await register({ username, password: PASSWORD, email: `${username}@example.com` });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      id: expect.any(Number),
      username,
      email: `${username}@example.com`,
      role: 'user',
      group: 'default',
    });
    expectNoPassword(res.body, PASSWORD);
  });

  it('works without an email', async () => {
    const username = uniq();
    const res = await register({ username, password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body.user.username).toBe(username);
  });

  it('rejects a duplicate username with 409', async () => {
    const username = uniq();
    expect((await register({ username, password: PASSWORD })).status).toBe(201);
    const again = await register({ username, password: 'another-password-1' });
    expectApiError(again, 409);
    // the original password still logs in: the duplicate did not overwrite the account
    const c = new ApiClient(gw.url);
    expect((await c.post('/api/auth/login', { username, password: PASSWORD })).status).toBe(200);
  });

  it.each([
    ['short password', () => ({ username: uniq(), password: 'short' })],
    ['missing username', () => ({ password: PASSWORD })],
    ['missing password', () => ({ username: uniq() })],
    ['username too short', () => ({ username: 'ab', password: PASSWORD })],
    ['username with bad characters', () => ({ username: 'bad name!', password: PASSWORD })],
    ['username not a string', () => ({ username: 12345, password: PASSWORD })],
  ])('rejects %s with 400', async (_label, make) => {
    expectApiError(await register(make()), 400);
  });

  it('rejects a non-JSON body with 400', async () => {
    const res = await new ApiClient(gw.url).request('POST', '/api/auth/register', '{not json', {
      'content-type': 'application/json',
    });
    expectApiError(res, 400);
  });

  it('rejects an unknown invite code with 400 and creates no account', async () => {
    const username = uniq();
    const res = await register({ username, password: PASSWORD, inviteCode: 'NO-SUCH-CODE-123' });
    expectApiError(res, 400);
    const login = await new ApiClient(gw.url).post('/api/auth/login', { username, password: PASSWORD });
    expect(login.status).toBe(401);
  });

  it('answers 403 when registration is disabled, and works again when re-enabled', async () => {
    const off = await gw.admin.patch('/api/admin/settings', { registrationEnabled: false });
    expect(off.status).toBe(200);
    try {
      const settings = await gw.admin.get('/api/admin/settings');
      expect(settings.body.registrationEnabled).toBe(false);
      const username = uniq();
      expectApiError(await register({ username, password: PASSWORD }), 403);
      // no account was created
      expect((await new ApiClient(gw.url).post('/api/auth/login', { username, password: PASSWORD })).status).toBe(401);
    } finally {
      expect((await gw.admin.patch('/api/admin/settings', { registrationEnabled: true })).status).toBe(200);
    }
    expect((await register({ username: uniq(), password: PASSWORD })).status).toBe(201);
  });
});

describe('login, session, logout', () => {
  let username: string;
  beforeAll(async () => {
    username = uniq('li');
    const res = await register({ username, password: PASSWORD, email: `${username}@example.com` });
    expect(res.status).toBe(201);
  });

  it('rejects a wrong password with 401 and sets no session', async () => {
    const c = new ApiClient(gw.url);
    const res = await c.post('/api/auth/login', { username, password: 'wrong-password-1' });
    expectApiError(res, 401);
    expect(res.headers.get('set-cookie') ?? '').not.toMatch(/moleapi_session=[^;]+/);
    expect((await c.get('/api/me')).status).toBe(401);
  });

  it('rejects an unknown user with 401', async () => {
    expectApiError(await new ApiClient(gw.url).post('/api/auth/login', { username: uniq('nx'), password: PASSWORD }), 401);
  });

  it('rejects a login body without a password with 400 or 401', async () => {
    const res = await new ApiClient(gw.url).post('/api/auth/login', { username });
    expect([400, 401]).toContain(res.status);
    expect(res.body.error).toBeTruthy();
  });

  it('sets an HttpOnly session cookie and returns the user without the password', async () => {
    const c = new ApiClient(gw.url);
    const res = await c.post('/api/auth/login', { username, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username, role: 'user', group: 'default' });
    expectNoPassword(res.body, PASSWORD);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^moleapi_session=[^;]+/);
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*Path=\//i);
  });

  it('GET /api/me answers 200 with the cookie and 401 without', async () => {
    const c = new ApiClient(gw.url);
    await c.login(username, PASSWORD);
    const me = await c.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      id: expect.any(Number),
      username,
      email: `${username}@example.com`,
      role: 'user',
      group: 'default',
    });
    expectNoPassword(me.body, PASSWORD);

    expectApiError(await rawGet('/api/me'), 401);
    expectApiError(await rawGet('/api/me', 'moleapi_session=forged-session-value'), 401);
  });

  it('the root admin is role root', async () => {
    const me = await gw.admin.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin', role: 'root' });
  });

  it('logout invalidates the session: the old cookie then gets 401', async () => {
    const c = new ApiClient(gw.url);
    const login = await c.login(username, PASSWORD);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await rawGet('/api/me', cookie)).status).toBe(200);

    const out = await c.post('/api/auth/logout');
    expect([200, 204]).toContain(out.status);
    expect((await rawGet('/api/me', cookie)).status).toBe(401);
    expect((await c.get('/api/me')).status).toBe(401);
  });

  it('logout of one session leaves another session of the same user alive', async () => {
    const a = new ApiClient(gw.url);
    const b = new ApiClient(gw.url);
    await a.login(username, PASSWORD);
    await b.login(username, PASSWORD);
    await a.post('/api/auth/logout');
    expect((await a.get('/api/me')).status).toBe(401);
    expect((await b.get('/api/me')).status).toBe(200);
  });
});

describe('failed-login throttle', () => {
  it('after 10 wrong passwords the username gets 429 with Retry-After, even with the right one; other users are unaffected', async () => {
    const victim = uniq('bf');
    const other = uniq('bf');
    await register({ username: victim, password: PASSWORD });
    await register({ username: other, password: PASSWORD });
    const c = new ApiClient(gw.url);
    for (let i = 0; i < 10; i++) expect((await c.post('/api/auth/login', { username: victim, password: `wrong-${i}` })).status).toBe(401);
    const refused = await c.post('/api/auth/login', { username: victim, password: PASSWORD });
    expectApiError(refused, 429);
    expect(refused.body.error.code).toBe('too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await c.post('/api/auth/login', { username: other, password: PASSWORD })).status).toBe(200);
  });

  it('counts failures in a sliding window, per IP as well, and a success clears the username', () => {
    const t = new LoginThrottle({ perUsername: 3, perIp: 5, windowMs: 1000 });
    for (let i = 0; i < 3; i++) t.failed('alice', '10.0.0.1', 100 * i);
    expect(t.retryAfter('alice', '10.0.0.2', 300)).toBe(1); // oldest failure (t=0) leaves at t=1000
    expect(t.retryAfter('alice', '10.0.0.2', 1000)).toBe(0);
    t.succeeded('alice');
    expect(t.retryAfter('alice', '10.0.0.1', 300)).toBe(0);
    for (let i = 0; i < 5; i++) t.failed(`user${i}`, '10.0.0.9', 0);
    expect(t.retryAfter('someone-else', '10.0.0.9', 10)).toBe(1); // the IP sprayed many usernames
    expect(t.retryAfter('someone-else', '10.0.0.8', 10)).toBe(0);
  });
});

describe('expired sessions', () => {
  it('get 401 and are deleted by the purge the gateway runs at start and hourly', async () => {
    const name = uniq('exp');
    await register({ username: name, password: PASSWORD });
    const c = new ApiClient(gw.url);
    const login = await c.login(name, PASSWORD);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const user = await gw.gateway.db.get<{ id: number }>('SELECT id FROM users WHERE username = ?', [name]);
    await gw.gateway.db.run('UPDATE sessions SET expires_at = ? WHERE user_id = ?', [Date.now() - 1000, user!.id]);
    expect((await rawGet('/api/me', cookie)).status).toBe(401);

    expect(await purgeExpiredSessions(gw.gateway.db)).toBeGreaterThanOrEqual(1);
    const left = await gw.gateway.db.all('SELECT id FROM sessions WHERE user_id = ?', [user!.id]);
    expect(left).toHaveLength(0);
  });
});

describe('passwords are never returned', () => {
  it('admin user listing and search contain no password or hash', async () => {
    const username = uniq('pw');
    const secret = 'very-secret-password-77';
    expect((await register({ username, password: secret })).status).toBe(201);
    const list = await gw.admin.get(`/api/admin/users?search=${encodeURIComponent(username)}`);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).toContain(username);
    expectNoPassword(list.body, secret);
    const all = await gw.admin.get('/api/admin/users?pageSize=200');
    expect(all.status).toBe(200);
    expectNoPassword(all.body, secret);
  });
});

describe('changing the password', () => {
  it('needs the current password, ends other sessions, and the new password logs in', async () => {
    const name = `pw_${Date.now()}`;
    const a = new ApiClient(gw.url);
    expect((await a.post('/api/auth/register', { username: name, password: 'first-password' })).status).toBe(201);
    await a.login(name, 'first-password');
    const other = new ApiClient(gw.url);
    await other.login(name, 'first-password');

    expect((await a.post('/api/me/password', { currentPassword: 'wrong-password', newPassword: 'second-password' })).status).toBe(401);
    expect((await a.post('/api/me/password', { currentPassword: 'first-password', newPassword: 'short' })).status).toBe(400);
    expect((await a.post('/api/me/password', { currentPassword: 'first-password', newPassword: 'second-password' })).status).toBe(200);

    expect((await a.get('/api/me')).status).toBe(200); // this session stays
    expect((await other.get('/api/me')).status).toBe(401); // the other one ended
    expect((await new ApiClient(gw.url).post('/api/auth/login', { username: name, password: 'first-password' })).status).toBe(401);
    await new ApiClient(gw.url).login(name, 'second-password');
  });
});
