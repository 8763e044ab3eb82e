// Redemption codes over real HTTP: generation (shown once, stored hashed, CSV export), redemption
// credited once under a 50-way race, disabled and expired codes, and the wrong-code limit.
import type { ZodType } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createSession, SESSION_COOKIE } from '../src/accounts/sessions.ts';
import { applyEntry, checkLedger } from '../src/ledger/entries.ts';
import { managementApp } from '../src/http/app.ts';
import { hashCode, normalizeCode } from '../src/wallet/redemption.ts';
import { ApiClient } from './helpers/api.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let seq = 0;
const uniq = (p = 'rd') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'redeem-pass-123';
const CODE_FORMAT = /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/;

beforeAll(async () => {
  // TRUST_PROXY: each test speaks from its own address (X-Forwarded-For), so the per-address limit
  // of one test does not reach another.
  gw = await startGateway({ env: { TRUST_PROXY: 'true' } });
});
afterAll(async () => {
  await gw?.close();
});

let ipSeq = 0;
const freshIp = () => `198.18.${Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

async function newUser(ip = freshIp()) {
  const username = uniq();
  const client = new ApiClient(gw.url);
  const reg = await client.post('/api/auth/register', { username, password: PASSWORD });
  expect(reg.status).toBe(201);
  await client.login(username, PASSWORD);
  const redeem = (code: string, from = ip) => client.post('/api/wallet/redeem', { code }, { 'x-forwarded-for': from });
  return { client, id: reg.body.user.id as number, redeem, ip };
}

/**
 * Many users cheaply: one real registration gives a password hash; the others are rows with that hash
 * and a session (each registration and login would cost a scrypt hash), and the trial credit as a
 * ledger entry, so each starts like a registered user with 250000 points.
 */
async function quickUsers(n: number) {
  const first = await newUser();
  const db = gw.gateway.db;
  const hash = (await db.get<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = ?', [first.id]))!.password_hash;
  const users: { id: number; redeem: (code: string) => Promise<{ status: number; body: any }> }[] = [first];
  for (let i = 1; i < n; i++) {
    const id = await db.tx(async (q) => {
      const row = await q.get<{ id: number }>(
        `INSERT INTO users (username, password_hash, role, group_name, aff_code, created_at) VALUES (?, ?, 'user', 'default', ?, ?) RETURNING id`,
        [uniq('q'), hash, randomBytes(6).toString('base64url'), Date.now()],
      );
      const userId = Number(row!.id);
      await applyEntry(q, { userId, kind: 'trial', amount: 250_000, reference: `trial:${userId}` });
      return userId;
    });
    const token = await createSession(db, id, 3600_000);
    const client = new ApiClient(gw.url);
    const ip = freshIp();
    users.push({ id, redeem: (code: string) => client.post('/api/wallet/redeem', { code }, { 'x-forwarded-for': ip, cookie: `${SESSION_COOKIE}=${token}` }) });
  }
  return users;
}

const balanceInDb = async (userId: number) => Number((await gw.gateway.db.get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [userId]))!.balance);

async function batch(body: Record<string, unknown>) {
  const value = body.usd === undefined ? { quota: 1000 } : {};
  const res = await gw.admin.post('/api/admin/redemption-codes', { name: uniq('batch'), count: 1, ...value, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { batchId: number; codes: string[]; value: { quota: number; usd: string }; expiresAt: string | null; name: string };
}

async function expectLedgerBalanced() {
  const { mismatches } = await checkLedger(gw.gateway.db);
  expect(mismatches).toEqual([]);
}

async function balanceOf(c: ApiClient): Promise<number> {
  return (await c.get('/api/wallet')).body.balance.quota;
}

describe('generating a batch', () => {
  it('returns count distinct high-entropy codes once; only their hashes are stored', async () => {
    const res = await gw.admin.post('/api/admin/redemption-codes', { name: 'launch promo', usd: '5', count: 200 });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { batchId, codes, value, expiresAt } = res.body;
    expect(value).toEqual({ quota: 2_500_000, usd: '5.000000' });
    expect(expiresAt).toBeNull();
    expect(codes).toHaveLength(200);
    expect(new Set(codes).size).toBe(200);
    for (const c of codes) expect(c).toMatch(CODE_FORMAT);
    const rows = await gw.gateway.db.all<{ code_hash: string; hint: string }>('SELECT code_hash, hint FROM redemption_codes WHERE batch_id = ?', [batchId]);
    expect(rows).toHaveLength(200);
    const hashes = new Set(rows.map((r) => r.code_hash));
    for (const c of codes) expect(hashes.has(hashCode(normalizeCode(c)!))).toBe(true);
    // no row holds a code in clear, in any column
    const dump = JSON.stringify(await gw.gateway.db.all('SELECT * FROM redemption_codes WHERE batch_id = ?', [batchId]));
    for (const c of codes.slice(0, 20)) {
      expect(dump).not.toContain(c);
      expect(dump).not.toContain(normalizeCode(c));
    }

    const detail = await gw.admin.get(`/api/admin/redemption-codes/${batchId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: batchId, name: 'launch promo', count: 200, usedCount: 0, enabled: true, value: { quota: 2_500_000 } });
    expect(detail.body.codes).toHaveLength(200);
    expect(detail.body.codes.map((c: any) => c.hint).sort()).toEqual(codes.map((c: string) => c.slice(-4)).sort());
    expect(JSON.stringify(detail.body)).not.toContain(codes[0]);

    const list = await gw.admin.get('/api/admin/redemption-codes?pageSize=200');
    expect(list.status).toBe(200);
    expect(list.body.items.find((b: any) => b.id === batchId)).toMatchObject({ name: 'launch promo', count: 200, usedCount: 0 });
  });

  it('exports CSV at generation time with ?format=csv or Accept: text/csv', async () => {
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    for (const [query, headers] of [['?format=csv', {}], ['', { accept: 'text/csv' }]] as const) {
      const res = await fetch(`${gw.url}/api/admin/redemption-codes${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: await adminCookie(), ...headers },
        body: JSON.stringify({ name: '=HYPERLINK("x") "q"', quota: 123, count: 3, expiresAt: expires }),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="redemption-codes-\d+\.csv"$/);
      const lines = (await res.text()).trimEnd().split('\r\n');
      expect(lines[0]).toBe('code,batch_id,name,quota,usd,expires_at');
      expect(lines).toHaveLength(4);
      for (const line of lines.slice(1)) {
        const [code, batchId] = line.split(',');
        expect(code).toMatch(CODE_FORMAT);
        expect(line).toBe(`${code},${batchId},"'=HYPERLINK(""x"") ""q""",123,0.000246,${expires}`);
      }
    }
  });

  it.each([
    ['count 0', { count: 0, quota: 1 }, 'count'],
    ['count 1001', { count: 1001, quota: 1 }, 'count'],
    ['both quota and usd', { count: 1, quota: 1, usd: '1' }, 'quota'],
    ['neither quota nor usd', { count: 1 }, 'quota'],
    ['usd between two points', { count: 1, usd: '0.000001' }, 'usd'],
    ['usd with 7 decimals', { count: 1, usd: '0.0000002' }, 'usd'],
    ['negative quota', { count: 1, quota: -5 }, 'quota'],
    ['fractional quota', { count: 1, quota: 1.5 }, 'quota'],
    ['expiry in the past', { count: 1, quota: 1, expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    ['expiry past the end of time', { count: 1, quota: 1, expiresAt: 1e20 }, 'expiresAt'],
    ['name empty', { count: 1, quota: 1, name: '  ' }, 'name'],
    ['unknown field', { count: 1, quota: 1, bonus: 5 }, ''],
  ])('refuses %s with 400 naming the field, and creates nothing', async (_label, body, field) => {
    const before = Number((await gw.gateway.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM redemption_batches'))!.n);
    const res = await gw.admin.post('/api/admin/redemption-codes', { name: 'bad', ...(body as object) });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    if (field) expect(res.body.error.issues.map((i: any) => i.path[0])).toContain(field);
    expect(Number((await gw.gateway.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM redemption_batches'))!.n)).toBe(before);
  });

  it('is admin-only', async () => {
    const u = await newUser();
    expect((await u.client.post('/api/admin/redemption-codes', { name: 'x', quota: 1, count: 1 })).status).toBe(403);
    expect((await u.client.get('/api/admin/redemption-codes')).status).toBe(403);
  });
});

let cookie: string | undefined;
async function adminCookie(): Promise<string> {
  if (!cookie) {
    const res = await fetch(`${gw.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: gw.adminPassword }) });
    cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  }
  return cookie;
}

describe('redeeming', () => {
  it('credits the value once as a redemption entry (reference redeem:<codeId>); the code is then used', async () => {
    const { batchId, codes } = await batch({ usd: '2.5', count: 2 });
    const u = await newUser();
    const res = await u.redeem(codes[0]!);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.credited).toEqual({ quota: 1_250_000, usd: '2.500000' });
    expect(res.body.balance).toEqual({ quota: 1_500_000, usd: '3.000000' });
    expect(await balanceOf(u.client)).toBe(1_500_000);
    const code = (await gw.admin.get(`/api/admin/redemption-codes/${batchId}`)).body.codes.find((c: any) => c.usedBy === u.id);
    expect(code).toMatchObject({ enabled: true, usedBy: u.id, usedAt: expect.any(String) });
    const ledger = (await u.client.get('/api/wallet/ledger')).body.items;
    expect(ledger.find((e: any) => e.kind === 'redemption')).toMatchObject({ amount: { quota: 1_250_000 }, reference: `redeem:${code.id}` });

    const again = await u.redeem(codes[0]!);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('code_already_used');
    const other = await newUser();
    expect((await other.redeem(codes[0]!)).status).toBe(409);
    expect(await balanceOf(u.client)).toBe(1_500_000);
    expect(await balanceOf(other.client)).toBe(250_000);
    expect((await gw.admin.get(`/api/admin/redemption-codes/${batchId}`)).body.usedCount).toBe(1);
    await expectLedgerBalanced();
  });

  it('ignores case, spaces and dashes, and reads O as 0 and I or L as 1', async () => {
    const { codes } = await batch({ quota: 777 });
    const typed = codes[0]!.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    const u = await newUser();
    const res = await u.redeem(`  ${typed} `);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.credited.quota).toBe(777);
  });

  it('50 clients redeeming the same code at once: exactly one is credited, the others get 409', async () => {
    const { codes, batchId } = await batch({ quota: 400_000 });
    const users = await quickUsers(50);
    const results = await Promise.all(users.map((u) => u.redeem(codes[0]!)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('code_already_used');
    }
    const balances = await Promise.all(users.map((u) => balanceInDb(u.id)));
    expect(balances.filter((b) => b === 650_000)).toHaveLength(1);
    expect(balances.filter((b) => b === 250_000)).toHaveLength(49);
    const entries = await gw.gateway.db.all(`SELECT * FROM ledger_entries WHERE kind = 'redemption' AND reference IN (SELECT 'redeem:' || id FROM redemption_codes WHERE batch_id = ?)`, [batchId]);
    expect(entries).toHaveLength(1);
    await expectLedgerBalanced();
  });

  it('one user redeeming the same code 10 times at once is credited once', async () => {
    const { codes } = await batch({ quota: 5000 });
    const u = await newUser();
    // 10: the most attempts one user may have in flight (the wrong-code limit counts attempts in flight).
    const results = await Promise.all(Array.from({ length: 10 }, () => u.redeem(codes[0]!)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await balanceOf(u.client)).toBe(255_000);
    await expectLedgerBalanced();
  });

  it('a disabled batch or code is refused with code_disabled; enabling it again makes it redeemable', async () => {
    const { batchId, codes } = await batch({ quota: 100, count: 3 });
    const u = await newUser();
    const off = await gw.admin.patch(`/api/admin/redemption-codes/${batchId}`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body.enabled).toBe(false);
    for (const c of codes) {
      const res = await u.redeem(c);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('code_disabled');
    }
    expect((await gw.admin.patch(`/api/admin/redemption-codes/${batchId}`, { enabled: true })).status).toBe(200);

    const detail = (await gw.admin.get(`/api/admin/redemption-codes/${batchId}`)).body;
    const target = detail.codes.find((c: any) => c.hint === codes[1]!.slice(-4));
    const codeOff = await gw.admin.patch(`/api/admin/redemption-codes/${batchId}/codes/${target.id}`, { enabled: false });
    expect(codeOff.status).toBe(200);
    expect(codeOff.body).toMatchObject({ id: target.id, enabled: false, usedBy: null });
    expect((await u.redeem(codes[1]!)).body.error.code).toBe('code_disabled');
    expect((await u.redeem(codes[0]!)).status).toBe(200);
    expect((await u.redeem(codes[2]!)).status).toBe(200);
    expect(await balanceOf(u.client)).toBe(250_200);
    // a code id of another batch, or none, is 404
    expect((await gw.admin.patch(`/api/admin/redemption-codes/${batchId + 1000}/codes/${target.id}`, { enabled: false })).status).toBe(404);
    expect((await gw.admin.patch(`/api/admin/redemption-codes/999999`, { enabled: false })).status).toBe(404);
  });

  it('an expired code is refused with code_expired and credits nothing', async () => {
    const { batchId, codes } = await batch({ quota: 100, expiresAt: Date.now() + 3_600_000 });
    // Let the expiry pass without waiting an hour.
    await gw.gateway.db.run('UPDATE redemption_batches SET expires_at = ? WHERE id = ?', [Date.now() - 1, batchId]);
    const u = await newUser();
    const res = await u.redeem(codes[0]!);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('code_expired');
    expect(await balanceOf(u.client)).toBe(250_000);
  });

  it('an unknown or malformed code is 400 invalid_code; an empty one is invalid_request', async () => {
    const u = await newUser();
    for (const code of ['AAAAA-AAAAA-AAAAA-AAAAA', 'not a code']) {
      const res = await u.redeem(code);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_code');
    }
    const empty = await u.redeem('   ');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_request');
    expect((await u.client.post('/api/wallet/redeem', { code: 12345 })).status).toBe(400);
    expect((await new ApiClient(gw.url).post('/api/wallet/redeem', { code: 'AAAAA' })).status).toBe(401);
  });
});

describe('wrong codes are limited', () => {
  const wrong = () => `${uniq('w').toUpperCase().replace(/[^0-9A-Z]/g, '').slice(0, 8)}ZZZZZZZZZZZZ`.slice(0, 20);

  it('per user: after 10 wrong codes in 15 minutes, 429 with Retry-After, even for a right code; others unaffected', async () => {
    const { codes } = await batch({ quota: 100 });
    const u = await newUser();
    for (let i = 0; i < 10; i++) expect((await u.redeem(wrong(), freshIp())).body.error.code).toBe('invalid_code');
    const refused = await u.redeem(wrong(), freshIp());
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_attempts');
    const retry = Number(refused.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    const right = await u.redeem(codes[0]!, freshIp());
    expect(right.status).toBe(429);
    expect(await balanceOf(u.client)).toBe(250_000);
    // another user is not limited by this one's guesses
    const other = await newUser();
    expect((await other.redeem(codes[0]!)).status).toBe(200);
  });

  it('per address: after 50 wrong codes from one address, any account there gets 429', async () => {
    const ip = freshIp();
    const users = await Promise.all(Array.from({ length: 6 }, () => newUser(ip)));
    for (let i = 0; i < 50; i++) expect((await users[i % 5]!.redeem(wrong())).status).toBe(400);
    const refused = await users[5]!.redeem(wrong());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    // the same account from elsewhere is fine
    expect((await users[5]!.redeem(wrong(), freshIp())).status).toBe(400);
  });

  it('a burst of 40 wrong codes at once: exactly 10 are looked up, 30 get 429', async () => {
    const u = await newUser();
    const results = await Promise.all(Array.from({ length: 40 }, () => u.redeem(wrong(), freshIp())));
    const looked = results.filter((r) => r.status === 400);
    expect(looked).toHaveLength(10);
    for (const r of looked) expect(r.body.error.code).toBe('invalid_code');
    expect(results.filter((r) => r.status === 429)).toHaveLength(30);
    expect((await u.redeem(wrong(), freshIp())).status).toBe(429);
  });

  it('used, disabled and expired codes are not wrong guesses', async () => {
    const { codes, batchId } = await batch({ quota: 1, count: 1 });
    const owner = await newUser();
    expect((await owner.redeem(codes[0]!)).status).toBe(200);
    const u = await newUser();
    for (let i = 0; i < 12; i++) expect((await u.redeem(codes[0]!)).status).toBe(409);
    await gw.admin.patch(`/api/admin/redemption-codes/${batchId}`, { enabled: false });
    for (let i = 0; i < 3; i++) expect((await u.redeem(codes[0]!)).status).toBe(409);
    expect((await u.redeem(wrong())).status).toBe(400);
  });
});

describe('answers equal their declared schemas', () => {
  it('admin and user redemption routes', async () => {
    const app = managementApp(gw.gateway);
    const schemaOf = (method: string, path: string, status: number): ZodType => {
      for (const def of app.openAPIRegistry.definitions) {
        if (def.type === 'route' && def.route.method === method && def.route.path === path) {
          return (def.route.responses[status] as { content: { 'application/json': { schema: ZodType } } }).content['application/json'].schema;
        }
      }
      throw new Error(`no route ${method} ${path}`);
    };
    const matches = (schema: ZodType, body: unknown) => expect(schema.parse(body)).toEqual(body);
    const created = await gw.admin.post('/api/admin/redemption-codes', { name: 'schema', quota: 10, count: 2, expiresAt: Date.now() + 60_000 });
    matches(schemaOf('post', '/api/admin/redemption-codes', 201), created.body);
    matches(schemaOf('get', '/api/admin/redemption-codes', 200), (await gw.admin.get('/api/admin/redemption-codes')).body);
    matches(schemaOf('get', '/api/admin/redemption-codes/{id}', 200), (await gw.admin.get(`/api/admin/redemption-codes/${created.body.batchId}`)).body);
    const u = await newUser();
    matches(schemaOf('post', '/api/wallet/redeem', 200), (await u.redeem(created.body.codes[0])).body);
    const doc = (await gw.admin.get('/api/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/admin/redemption-codes'].post.responses['201'].content)).toEqual(['application/json', 'text/csv']);
    expect(doc.paths['/api/wallet/redeem'].post.responses).toHaveProperty('429');
  });
});
