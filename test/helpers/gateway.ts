// Starts a real gateway in this process on an ephemeral port, with its own fresh database:
// a temporary SQLite file, or a new PostgreSQL database when TEST_DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { ensureAdmin } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { settlementWriter } from '../../src/ledger/holds.ts';
import { startServer } from '../../src/server.ts';
import { ApiClient } from './api.ts';
import { undoAtEnd } from './leftovers.ts';

export interface TestGateway {
  url: string;
  adminPassword: string;
  admin: ApiClient;
  databaseUrl: string;
  gateway: Gateway;
  /**
   * Resolves once every settlement this gateway has queued has committed. On PostgreSQL an answer is
   * sent before its settlement's commit (settlement-journal.ts): a test reading the database directly,
   * or through another instance, right after an answer waits for this first.
   */
  settled(): Promise<void>;
  /** Stops the gateway; with keepDatabase the database survives for another gateway to open. */
  close(opts?: { keepDatabase?: boolean }): Promise<void>;
}

export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) {
    const dir = mkdtempSync(join(tmpdir(), 'moleapi-test-'));
    return { url: `sqlite:${join(dir, 'test.db')}`, drop: removedAtEnd(async () => rmSync(dir, { recursive: true, force: true })) };
  }
  const name = `moleapi_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: removedAtEnd(async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    }),
  };
}

/** `remove`, also run when the test file ends if nothing ran it before (a database kept for a second instance). */
function removedAtEnd(remove: () => Promise<void>): () => Promise<void> {
  const forget = undoAtEnd(remove);
  return async () => {
    forget();
    await remove();
  };
}

// Each database gets its own data folder (owed-charges file, generated secret key), shared by every
// gateway a test starts on that database, as it would be on one host; removed with the database.
const dataDirs = new Map<string, { dir: string; remove: () => Promise<void> }>();
function dataDirFor(databaseUrl: string): string {
  let d = dataDirs.get(databaseUrl);
  if (!d) {
    const dir = mkdtempSync(join(tmpdir(), 'moleapi-data-'));
    const remove = removedAtEnd(async () => {
      rmSync(dir, { recursive: true, force: true });
      dataDirs.delete(databaseUrl);
    });
    dataDirs.set(databaseUrl, (d = { dir, remove }));
  }
  return d.dir;
}

export async function startGateway(
  opts: {
    env?: Record<string, string | undefined>;
    databaseUrl?: string;
    adminPassword?: string;
    /** Keep the per-address registration limit; by default it is turned off (tests register many users from 127.0.0.1). */
    registrationLimit?: boolean;
  } = {},
): Promise<TestGateway> {
  const db = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => {} } : await freshDatabase();
  const adminPassword = opts.adminPassword ?? `admin-${randomBytes(8).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDirFor(db.url),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    ...opts.env,
  });
  const gateway = await createGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  await ensureAdmin(gateway, adminPassword);
  const server = await startServer(gateway, 0, '127.0.0.1');
  // Left open by its test (a failure before its close): closed when the file ends, before the drops.
  const forget = undoAtEnd(() => tg.close({ keepDatabase: true }), 'gateway');
  const url = `http://127.0.0.1:${server.port}`;
  const admin = new ApiClient(url);
  await admin.login('admin', adminPassword);
  if (!opts.registrationLimit) {
    const res = await admin.patch('/api/admin/settings', { registrationsPerIpPerHour: 0 });
    if (res.status !== 200) throw new Error(`settings: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const tg: TestGateway = {
    url,
    adminPassword,
    admin,
    databaseUrl: db.url,
    gateway,
    settled: () => settlementWriter(gateway.db).settled(),
    async close(closeOpts = {}) {
      forget();
      await server.close();
      await gateway.close();
      if (!closeOpts.keepDatabase) {
        await db.drop();
        await dataDirs.get(db.url)?.remove();
      }
    },
  };
  return tg;
}

export async function addChannel(
  gw: TestGateway,
  body: { baseUrl: string; models: string[]; type?: string; name?: string; groups?: string[]; priority?: number; weight?: number; modelMapping?: Record<string, string>; apiKey?: string; config?: Record<string, unknown> },
): Promise<number> {
  const res = await gw.admin.post('/api/admin/channels', { name: body.name ?? 'test channel', type: 'openai', apiKey: body.apiKey ?? 'sk-upstream-test', ...body });
  if (res.status !== 201) throw new Error(`addChannel: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export async function setPrice(gw: TestGateway, model: string, price: { input?: string; output?: string; cachedInput?: string; cacheWrite?: string; perRequest?: string; audioInput?: string; audioOutput?: string; imageInput?: string; imageOutput?: string }): Promise<void> {
  const res = await gw.admin.put(`/api/admin/prices/${encodeURIComponent(model)}`, price);
  if (res.status !== 200) throw new Error(`setPrice: ${res.status} ${JSON.stringify(res.body)}`);
}

let userSeq = 0;

export async function createUserWithKey(
  gw: TestGateway,
  opts: { username?: string; balance?: number; key?: Record<string, unknown> } = {},
): Promise<{ client: ApiClient; userId: number; key: string; keyId: number }> {
  const username = opts.username ?? `u${process.pid}_${++userSeq}_${randomBytes(3).toString('hex')}`;
  const password = 'password-123';
  const client = new ApiClient(gw.url);
  const reg = await client.post('/api/auth/register', { username, password });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  const userId = reg.body.user.id as number;
  await client.login(username, password);
  if (opts.balance !== undefined) {
    const wallet = await client.get('/api/wallet');
    const delta = opts.balance - wallet.body.balance.quota;
    if (delta !== 0) {
      const adj = await gw.admin.post(`/api/admin/users/${userId}/adjust`, { quota: delta, reason: 'test setup' });
      if (adj.status !== 201) throw new Error(`adjust: ${adj.status} ${JSON.stringify(adj.body)}`);
    }
  }
  const k = await client.post('/api/keys', { name: 'test key', ...opts.key });
  if (k.status !== 201) throw new Error(`create key: ${k.status} ${JSON.stringify(k.body)}`);
  return { client, userId, key: k.body.key, keyId: k.body.id };
}
