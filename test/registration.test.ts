// Money hole 4: registering in a loop for trial credit. Per-address hourly limit, and usernames
// unique without regard to case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRegistrationLimit, RegistrationLimitError, registrationBucket } from '../src/accounts/registration-limit.ts';
import { openDatabase } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { ApiClient } from './helpers/api.ts';
import { freshDatabase, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let seq = 0;
const uniq = (p = 'rg') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'registration-pass-1';

beforeAll(async () => {
  // TRUST_PROXY so each test can speak from its own address through X-Forwarded-For.
  gw = await startGateway({ env: { TRUST_PROXY: 'true' }, registrationLimit: true });
});
afterAll(async () => {
  await gw?.close();
});

function register(ip: string, username = uniq()) {
  return new ApiClient(gw.url).post('/api/auth/register', { username, password: PASSWORD }, { 'x-forwarded-for': ip });
}

async function userCount(): Promise<number> {
  return Number((await gw.gateway.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))!.n);
}

describe('registrations per address per hour (default 10)', () => {
  it('the 11th registration from one address within the hour is refused with 429 and Retry-After; others are unaffected', async () => {
    expect((await gw.admin.get('/api/admin/settings')).body.registrationsPerIpPerHour).toBe(10);
    for (let i = 0; i < 10; i++) expect((await register('203.0.113.7')).status).toBe(201);
    const before = await userCount();
    const refused = await register('203.0.113.7');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_registrations');
    const retry = Number(refused.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(3500);
    expect(retry).toBeLessThanOrEqual(3600);
    expect(await userCount()).toBe(before); // no account, so no trial credit
    expect((await register('203.0.113.8')).status).toBe(201);
    // IPv4-mapped IPv6 is the same address
    expect((await register('::ffff:203.0.113.7')).status).toBe(429);
  });

  it('concurrent registrations from one address: exactly the limit succeed', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, () => register('198.51.100.20')));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it('the check and the insert are atomic per address (25 transactions at once, no hashing to stagger them)', async () => {
    const db = gw.gateway.db;
    const bucket = '198.51.100.99';
    const outcomes = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        db.tx(async (q) => {
          const now = Date.now();
          await checkRegistrationLimit(q, db.dialect, bucket, 10, now);
          await q.run(`INSERT INTO users (username, password_hash, aff_code, registration_ip, created_at) VALUES (?, 'x', ?, ?, ?)`, [uniq('atomic'), uniq('aff'), bucket, now]);
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RegistrationLimitError);
  });

  it('an IPv6 /64 counts as one address', async () => {
    for (let i = 1; i <= 10; i++) expect((await register(`2001:db8:1:2::${i.toString(16)}`)).status).toBe(201);
    expect((await register('2001:db8:1:2:ffff::1')).status).toBe(429);
    expect((await register('2001:db8:1:3::1')).status).toBe(201);
    expect(registrationBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
  });

  it('the setting changes the limit; 0 is unlimited', async () => {
    expect((await gw.admin.patch('/api/admin/settings', { registrationsPerIpPerHour: 0 })).status).toBe(200);
    expect((await register('203.0.113.7')).status).toBe(201);
    expect((await gw.admin.patch('/api/admin/settings', { registrationsPerIpPerHour: 12 })).status).toBe(200);
    // 203.0.113.7 now has 11 in the hour: one more is allowed, then refused
    expect((await register('203.0.113.7')).status).toBe(201);
    expect((await register('203.0.113.7')).status).toBe(429);
    expect((await gw.admin.patch('/api/admin/settings', { registrationsPerIpPerHour: -1 })).status).toBe(400);
    expect((await gw.admin.patch('/api/admin/settings', { registrationsPerIpPerHour: 10 })).status).toBe(200);
  });
});

describe('usernames are unique without regard to case', () => {
  it('ADMIN cannot be registered beside admin; a case variant of any user is 409', async () => {
    for (const name of ['ADMIN', 'Admin']) {
      const res = await register('192.0.2.1', name);
      expect(res.status, name).toBe(409);
      expect(res.body.error.code).toBe('username_taken');
    }
    const name = uniq('CaseUser');
    expect((await register('192.0.2.2', name)).status).toBe(201);
    expect((await register('192.0.2.3', name.toLowerCase())).status).toBe(409);
    expect((await register('192.0.2.4', name.toUpperCase())).status).toBe(409);
  });

  it('login ignores the case of the username', async () => {
    const c = new ApiClient(gw.url);
    const res = await c.post('/api/auth/login', { username: 'ADMIN', password: gw.adminPassword });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe('admin');
    expect((await c.get('/api/me')).body.role).toBe('root');
  });

  it('the migration keeps accounts that already clash: the newer ones get -<id> appended', async () => {
    const fresh = await freshDatabase();
    const db = await openDatabase(fresh.url);
    try {
      await migrate(db);
      // Back to the state before migration 20: no case-insensitive index, two clashing names.
      await db.run('DROP INDEX users_username_lower');
      await db.run('DELETE FROM schema_migrations WHERE id = 20');
      const insert = `INSERT INTO users (username, password_hash, aff_code, created_at) VALUES (?, 'x', ?, 0)`;
      await db.run(insert, ['Bob', 'a1']);
      await db.run(insert, ['bob', 'a2']);
      await db.run(insert, ['carol', 'a3']);
      expect(await migrate(db)).toBe(1);
      const rows = await db.all<{ id: number; username: string }>('SELECT id, username FROM users ORDER BY id');
      expect(rows.map((r) => r.username)).toEqual(['Bob', `bob-${rows[1]!.id}`, 'carol']);
      await expect(db.run(insert, ['CAROL', 'a4'])).rejects.toThrow();
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
