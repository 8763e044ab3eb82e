// `npm run ledger:check` against a live database: OK after real activity, exit 1 after a corrupted balance.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
const users: Array<{ id: number; username: string }> = [];
const PASSWORD = 'ledger-cli-pass-1';

beforeAll(async () => {
  gw = await startGateway();
  // some activity: registrations (trial entries) and adjustments in both directions
  for (let i = 0; i < 3; i++) {
    const username = `lc_${Date.now().toString(36)}_${i}`;
    const reg = await new ApiClient(gw.url).post('/api/auth/register', { username, password: PASSWORD });
    expect(reg.status).toBe(201);
    users.push({ id: reg.body.user.id, username });
  }
  for (const [i, q] of [1234, -1000, 77].entries()) {
    const res = await gw.admin.post(`/api/admin/users/${users[i]!.id}/adjust`, { quota: q, reason: `cli ${i}` });
    expect([200, 201]).toContain(res.status);
  }
});
afterAll(async () => {
  await gw?.close();
});

function ledgerCheck(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'ledger:check'], {
      cwd: process.cwd(),
      env: { ...process.env, DATABASE_URL: gw.databaseUrl, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('ledger:check', () => {
  it('exits 0 and reports every account checked', async () => {
    const { code, out } = await ledgerCheck();
    expect(code, out).toBe(0);
    const m = /ledger:check OK: (\d+) accounts?/.exec(out);
    expect(m, out).not.toBeNull();
    // the three users plus at least the root admin
    expect(Number(m![1])).toBeGreaterThanOrEqual(users.length + 1);
  }, 90_000);

  it(
    'exits 1 and names the account whose balance no longer matches its entries',
    async (ctx) => {
      if (!gw.databaseUrl.startsWith('sqlite:')) ctx.skip(); // the corruption step needs the SQLite file
      const { default: Database } = await import('better-sqlite3');
      const file = gw.databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      const db = new Database(file);
      try {
        const victim = users[1]!;
        const r = db.prepare('UPDATE users SET balance = balance + 1 WHERE id = ?').run(victim.id);
        expect(r.changes).toBe(1);
      } finally {
        db.close();
      }
      const { code, out } = await ledgerCheck();
      expect(code, out).toBe(1);
      expect(out).not.toMatch(/ledger:check OK/);
      expect(out, out).toMatch(new RegExp(`\\b${users[1]!.id}\\b|${users[1]!.username}`));
      // the healthy accounts are not reported as mismatching
      expect(out).not.toContain(users[0]!.username);
    },
    90_000,
  );
});
