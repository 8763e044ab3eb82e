// `npm run ledger:check` against a live database: OK after real activity, exit 1 after a corrupted balance.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

let gw: TestGateway;
let up: FakeOpenAI;
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
  // and a billed relay request (a usage entry)
  up = await startFakeOpenAI();
  await addChannel(gw, { baseUrl: up.url, models: ['cli-model'] });
  await setPrice(gw, 'cli-model', { input: '2', output: '8' });
  const u = await createUserWithKey(gw, { username: `lc_${Date.now().toString(36)}_k` });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'cli-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
  expect((await u.client.get('/api/wallet')).body.used.quota).toBeGreaterThan(0);
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
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
    // the four users plus at least the root admin
    expect(Number(m![1])).toBeGreaterThanOrEqual(users.length + 2);
  }, 90_000);

  it(
    'exits 1 and names the account whose balance no longer matches its entries',
    async (ctx) => {
      const victim = users[1]!;
      if (gw.databaseUrl.startsWith('sqlite:')) {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(gw.databaseUrl.slice('sqlite:'.length));
        try {
          expect(db.prepare('UPDATE users SET balance = balance + 1 WHERE id = ?').run(victim.id).changes).toBe(1);
        } finally {
          db.close();
        }
      } else if (/^postgres(ql)?:/.test(gw.databaseUrl)) {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: gw.databaseUrl });
        await client.connect();
        try {
          const r = await client.query('UPDATE users SET balance = balance + 1 WHERE id = $1', [victim.id]);
          expect(r.rowCount).toBe(1);
        } finally {
          await client.end();
        }
      } else {
        ctx.skip();
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
