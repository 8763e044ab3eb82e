// (B) The real gateway: start it as a child, configure it only through its public HTTP API (as an
// operator would), and afterwards read its SQLite file to check no usage log was lost.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { freePort, track } from './procs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Gateway {
  child: ChildProcess;
  baseUrl: string;
  dbPath: string;
  logPath: string;
  adminPassword: string;
}

/** The node flags of `npm start` (package.json), so the gateway runs here exactly as it does there. */
function startNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const flags = /\bnode\s+((?:--\S+\s+)*)dist\/main\.js/.exec(start);
  if (!flags) throw new Error(`cannot find "node … dist/main.js" in the start script: ${start}`);
  return flags[1]!.split(/\s+/).filter(Boolean);
}

/** `opts.databaseUrl` runs it on another database (PostgreSQL rows); `opts.name` keeps its files apart. */
export async function startGateway(tmpDir: string, opts: { databaseUrl?: string; name?: string } = {}): Promise<Gateway> {
  // Measured as `npm start` runs it: compiled JavaScript, not the TypeScript loader.
  execFileSync(process.execPath, [root + 'node_modules/typescript/bin/tsc', '-p', root + 'tsconfig.build.json'], { stdio: 'inherit' });
  const entry = root + 'dist/main.js';
  if (!existsSync(entry)) throw new Error(`gateway entry ${entry} does not exist`);
  const port = await freePort();
  const name = opts.name ?? 'gateway';
  const dbPath = `${tmpDir}/bench.db`;
  const logPath = `${tmpDir}/${name}.log`;
  const adminPassword = randomBytes(12).toString('hex');
  // Extra node flags for the gateway only, e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extraArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = track(
    spawn(process.execPath, [...startNodeFlags(), ...extraArgs, entry], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: opts.databaseUrl ?? `sqlite:${dbPath}`,
        ...(opts.databaseUrl ? { DATA_DIR: `${tmpDir}/${name}-data` } : {}),
        MOLEAPI_ADMIN_PASSWORD: adminPassword,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  // The gateway's output goes to a file: under load even warnings would drown the report.
  const log = createWriteStream(logPath);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const gateway = { child, baseUrl: `http://127.0.0.1:${port}`, dbPath, logPath, adminPassword };
  await waitReady(gateway, 60_000);
  return gateway;
}

async function waitReady(gw: Gateway, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) {
      throw new Error(`gateway exited during start (code ${gw.child.exitCode}, signal ${gw.child.signalCode})`);
    }
    try {
      const res = await fetch(`${gw.baseUrl}/api/status`);
      if (res.status === 200) return;
      last = `GET /api/status → ${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gateway not ready after ${ms / 1000} s (last: ${last})`);
}

export function logTail(gw: Gateway, lines = 30): string {
  try {
    return readFileSync(gw.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no gateway log)';
  }
}

// Minimal JSON client with one session cookie; each failed step throws with the exact answer.
class Session {
  private cookie = '';
  constructor(private readonly baseUrl: string) {}

  async call(method: string, path: string, body: unknown, expect: number[]): Promise<any> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: JSON.stringify(body),
    });
    const setCookie = res.headers.getSetCookie();
    if (setCookie.length > 0) this.cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  }
}

export interface BenchAccount {
  username: string;
  apiKey: string;
}

// Admin creates the channel and price, a fresh user gets ample credit and an API key.
export async function configure(gw: Gateway, upstreamUrl: string): Promise<BenchAccount> {
  const admin = new Session(gw.baseUrl);
  await admin.call('POST', '/api/auth/login', { username: 'admin', password: gw.adminPassword }, [200]);
  await admin.call(
    'POST',
    '/api/admin/channels',
    { name: 'bench', type: 'openai', baseUrl: upstreamUrl, apiKey: 'sk-upstream', models: ['gpt-bench', 'gpt-bench-slow', 'gpt-bench-1kb', 'gpt-bench-1mb'] },
    [200, 201],
  );
  // The Anthropic rows: a native channel (passthrough); Anthropic callers of gpt-bench are translated.
  await admin.call('POST', '/api/admin/channels', { name: 'bench-anthropic', type: 'anthropic', baseUrl: upstreamUrl, apiKey: 'sk-upstream', models: ['claude-bench'] }, [200, 201]);
  for (const model of ['gpt-bench', 'gpt-bench-slow', 'gpt-bench-1kb', 'gpt-bench-1mb', 'claude-bench']) {
    await admin.call('PUT', `/api/admin/prices/${model}`, { input: '2', output: '8' }, [200, 201]);
  }

  const username = `bench_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const user = new Session(gw.baseUrl);
  const registered = await user.call('POST', '/api/auth/register', { username, password }, [200, 201]);
  const userId = registered?.user?.id;
  if (userId === undefined) throw new Error(`register answered without user.id: ${JSON.stringify(registered)}`);
  await admin.call('POST', `/api/admin/users/${userId}/adjust`, { quota: 5_000_000_000_000, reason: 'bench' }, [200, 201]);

  await user.call('POST', '/api/auth/login', { username, password }, [200]);
  const key = await user.call('POST', '/api/keys', { name: 'bench' }, [200, 201]);
  if (typeof key?.key !== 'string' || !key.key.startsWith('sk-')) throw new Error(`POST /api/keys answered without a key: ${JSON.stringify(key)}`);
  return { username, apiKey: key.key };
}

export interface StoredCounts {
  logRows: number;
  requestCount: number | undefined;
}

// Read after the gateway has exited, so whatever its shutdown flushed is what is on disk.
export function readStoredCounts(gw: Gateway, username: string): StoredCounts {
  const db = new Database(gw.dbPath, { readonly: true, fileMustExist: true });
  try {
    const logs = db.prepare('SELECT COUNT(*) AS n FROM usage_logs').get() as { n: number };
    const user = db.prepare('SELECT request_count AS n FROM users WHERE username = ?').get(username) as { n: number } | undefined;
    return { logRows: Number(logs.n), requestCount: user === undefined ? undefined : Number(user.n) };
  } finally {
    db.close();
  }
}
