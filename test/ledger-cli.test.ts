// `npm run ledger:check` against a live database: OK after real activity, and each check catching a
// real corruption made behind the gateway's back; it refuses an unmigrated database without migrating it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { runLedgerCheck } from '../src/cli/run-ledger-check.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, freshDatabase, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

let gw: TestGateway;
let up: FakeOpenAI;
const users: Array<{ id: number; username: string }> = [];
let billed: { userId: number; keyId: number; requestId: string };
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
    expect(res.status).toBe(201);
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
  billed = { userId: u.userId, keyId: u.keyId, requestId: res.headers.get('x-moleapi-request-id')! };
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
    async () => {
      const victim = users[1]!;
      await tamper([['UPDATE users SET balance = balance + 1 WHERE id = ?', [victim.id]]]);
      const { code, out } = await ledgerCheck();
      expect(code, out).toBe(1);
      expect(out).not.toMatch(/ledger:check OK/);
      expect(out, out).toMatch(new RegExp(`\\b${users[1]!.id}\\b|${users[1]!.username}`));
      // the healthy accounts are not reported as mismatching
      expect(out).not.toContain(users[0]!.username);
      await tamper([['UPDATE users SET balance = balance - 1 WHERE id = ?', [victim.id]]]);
    },
    90_000,
  );
});

/** Runs statements on the test database through its own connection, behind the gateway's back. */
async function tamper(statements: Array<[string, unknown[]?]>): Promise<void> {
  if (gw.databaseUrl.startsWith('sqlite:')) {
    const db = new BetterSqlite3(gw.databaseUrl.slice('sqlite:'.length));
    try {
      for (const [sql, params = []] of statements) db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: gw.databaseUrl });
  await client.connect();
  try {
    for (const [sql, params = []] of statements) {
      let n = 0;
      await client.query(sql.replace(/\?/g, () => `$${++n}`), params);
    }
  } finally {
    await client.end();
  }
}

const sqlite = () => gw.databaseUrl.startsWith('sqlite:');

describe('ledger:check catches each corruption (exactly, in process)', () => {
  it('a balance 1 point off above 2^53, where JavaScript numbers cannot tell the two apart', async () => {
    const victim = users[2]!;
    const before = await runLedgerCheck(gw.databaseUrl);
    expect(before.code, before.lines.join('\n')).toBe(0);
    const row = await gw.gateway.db.get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [victim.id]);
    const big = 2n ** 53n - BigInt(row!.balance); // entries then sum to exactly 2^53; the balance is 2^53 + 1
    expect(Number(2n ** 53n + 1n)).toBe(Number(2n ** 53n));
    await tamper([
      ["INSERT INTO ledger_entries (user_id, kind, amount, balance_after, reference, note, created_at) VALUES (?, 'adjustment', ?, 0, 'big-one', NULL, 0)", [victim.id, big.toString()]],
      ['UPDATE users SET balance = balance + ? WHERE id = ?', [(big + 1n).toString(), victim.id]],
    ]);
    try {
      const { code, lines } = await runLedgerCheck(gw.databaseUrl);
      expect(code, lines.join('\n')).toBe(1);
      expect(lines.join('\n')).toContain(`user ${victim.id} (${victim.username}): balance = ledger entries - usage-log costs does not hold: 9007199254740993 vs 9007199254740992`);
      expect(lines).toHaveLength(2);
    } finally {
      await tamper([
        ["DELETE FROM ledger_entries WHERE reference = 'big-one'"],
        ['UPDATE users SET balance = balance - ? WHERE id = ?', [(big + 1n).toString(), victim.id]],
      ]);
    }
    expect((await runLedgerCheck(gw.databaseUrl)).code).toBe(0);
  });

  it('a negative hold amount (what is held is the sum of the hold rows, so it must never go below 0)', async () => {
    const guard = sqlite()
      ? [['DROP TRIGGER holds_amount_non_negative_insert'] as [string]]
      : [['ALTER TABLE holds DROP CONSTRAINT holds_amount_non_negative'] as [string]];
    await tamper([
      ...guard,
      ["INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at) VALUES ('tampered', ?, ?, -3, 'nobody', 0)", [billed.userId, billed.keyId]],
    ]);
    try {
      const { code, lines } = await runLedgerCheck(gw.databaseUrl);
      expect(code).toBe(1);
      expect(lines.join('\n')).toMatch(new RegExp(`user ${billed.userId} \\(.*\\): hold amount >= 0 does not hold: -3 vs 0`));
      expect(lines).toHaveLength(2);
    } finally {
      await tamper([
        ["DELETE FROM holds WHERE id = 'tampered'"],
        sqlite()
          ? ["CREATE TRIGGER holds_amount_non_negative_insert BEFORE INSERT ON holds WHEN NEW.amount < 0 BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: holds_amount_non_negative'); END"]
          : ['ALTER TABLE holds ADD CONSTRAINT holds_amount_non_negative CHECK (amount >= 0)'],
      ]);
    }
    expect((await runLedgerCheck(gw.databaseUrl)).code).toBe(0);
  });

  it('a usage-log cost that differs from what was charged', async () => {
    await tamper([['UPDATE usage_logs SET cost = cost + 1 WHERE request_id = ?', [billed.requestId]]]);
    try {
      const { code, lines } = await runLedgerCheck(gw.databaseUrl);
      expect(code).toBe(1);
      const out = lines.join('\n');
      const user = `user ${billed.userId} \\(.*\\)`;
      // The balance no longer matches the record of its charges, nor do the user's and the key's `used`.
      const [, balance, records] = new RegExp(`${user}: balance = ledger entries - usage-log costs does not hold: (-?\\d+) vs (-?\\d+)`).exec(out)!;
      expect(BigInt(balance!) - BigInt(records!)).toBe(1n);
      const [, used, logged] = new RegExp(`${user}: used = usage-log costs does not hold: (\\d+) vs (\\d+)`).exec(out)!;
      expect(BigInt(logged!) - BigInt(used!)).toBe(1n);
      expect(out).toMatch(new RegExp(`key ${billed.keyId} \\(user ${billed.userId}\\): used = usage-log costs does not hold`));
      expect(lines).toHaveLength(4);
    } finally {
      await tamper([['UPDATE usage_logs SET cost = cost - 1 WHERE request_id = ?', [billed.requestId]]]);
    }
  });
});

describe('ledger:check never migrates', () => {
  it('refuses an unmigrated database with a clear message and leaves it untouched', async () => {
    const fresh = await freshDatabase();
    try {
      if (fresh.url.startsWith('sqlite:')) new BetterSqlite3(fresh.url.slice('sqlite:'.length)).close(); // an empty file
      const { code, lines } = await runLedgerCheck(fresh.url);
      expect(code).toBe(2);
      expect(lines.join('\n')).toMatch(/REFUSED: the database is not migrated \(missing migrations 1, .*\); start the gateway once/);
      const tables = fresh.url.startsWith('sqlite:')
        ? (() => {
            const db = new BetterSqlite3(fresh.url.slice('sqlite:'.length));
            try {
              return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
            } finally {
              db.close();
            }
          })()
        : await (async () => {
            const c = new pg.Client({ connectionString: fresh.url });
            await c.connect();
            try {
              return (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows;
            } finally {
              await c.end();
            }
          })();
      expect(tables).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });

  it('refuses a SQLite path with no database instead of creating one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moleapi-nodb-'));
    try {
      const file = join(dir, 'missing.db');
      const { code, lines } = await runLedgerCheck(`sqlite:${file}`);
      expect(code).toBe(2);
      expect(lines[0]).toBe(`ledger:check REFUSED: no database file at ${file}`);
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
