// PostgreSQL rows of `npm run bench`: the same gateway on a scratch PostgreSQL database, one user and
// 100 users, at 10 and 100 connections, each compared with the SQLite figure of the same run.
// BENCH_PG_URL (default postgres://root@127.0.0.1:5432/test) names a server where a scratch database
// may be created and dropped; without an answer there the rows are skipped with one line saying so.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runLedgerCheck } from '../src/cli/run-ledger-check.ts';
import { openDatabase } from '../src/db/index.ts';
import { insertKey } from '../src/accounts/keys.ts';
import { applyEntry } from '../src/ledger/entries.ts';
import { configure, logTail, startGateway } from './gateway.ts';
import { measure, probe, probeProblem, type Measured, type Scenario, type Target } from './load.ts';
import { waitForExit } from './procs.ts';
import { countErrors, type Check } from './report.ts';

export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const MANY_USERS = 100;
const PG_RATIO_TARGET = 0.3;

const log = (msg: string): void => console.error(`bench: ${msg}`);

async function adminClient(): Promise<pg.Client | string> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    return (err as Error).message;
  }
}

/** 100 users with credit (a ledger entry each) and one key each, written straight into the scratch database. */
async function manyUsers(url: string): Promise<string[]> {
  const db = await openDatabase(url);
  try {
    const keys: string[] = [];
    const run = randomBytes(3).toString('hex');
    for (let i = 0; i < MANY_USERS; i++) {
      const userId = await db.tx(async (q) => {
        const u = await q.get<{ id: number }>(
          `INSERT INTO users (username, password_hash, group_name, aff_code, created_at) VALUES (?, 'no-login', 'default', ?, ?) RETURNING id`,
          [`bench_many_${run}_${i}`, `bm${run}${i}`, Date.now()],
        );
        await applyEntry(q, { userId: Number(u!.id), kind: 'adjustment', amount: 5_000_000_000_000, reference: `bench:${run}:${i}`, note: 'bench' });
        return Number(u!.id);
      });
      keys.push((await insertKey(db, userId, { name: 'bench', group: 'default', enabled: true, expiresAt: null, quotaLimit: null, models: [], allowIps: [] })).key);
    }
    return keys;
  } finally {
    await db.close();
  }
}

export interface PgRow {
  name: string;
  connections: number;
  measured: Measured;
}

export interface PgResult {
  rows: PgRow[];
  checks: Check[];
}

/**
 * Measures the PostgreSQL rows; `sqliteRps(connections)` gives the SQLite (B) figure of this run at
 * the same connection count. Returns null (after printing why) when no PostgreSQL answers.
 */
export async function measurePostgres(
  tmpDir: string,
  upstreamUrl: string,
  seconds: number,
  warmupSeconds: number,
): Promise<PgResult | null> {
  const admin = await adminClient();
  if (typeof admin === 'string') {
    console.log(`PostgreSQL rows skipped: no PostgreSQL answering at ${PG_URL} (${admin}); set BENCH_PG_URL to measure them`);
    return null;
  }
  const name = `moleapi_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  try {
    log(`PostgreSQL rows on scratch database ${name}`);
    const gw = await startGateway(tmpDir, { databaseUrl: dbUrl, name: 'gateway-pg' });
    const rows: PgRow[] = [];
    let exitCode: number | null | undefined;
    try {
      const account = await configure(gw, upstreamUrl);
      const url = gw.baseUrl + '/v1/chat/completions';
      const one: Target = { label: 'PG', url, headers: { authorization: `Bearer ${account.apiKey}` } };
      const problem = probeProblem(await probe(one, false), false);
      if (problem) throw new Error(`PostgreSQL gateway probe failed: ${problem}`);
      const many: Target = { label: 'PG', url, headers: {}, keys: await manyUsers(dbUrl) };
      const plan: Array<[string, Target, number]> = [
        ['pg 1 user 10c', one, 10],
        [`pg ${MANY_USERS} users 10c`, many, 10],
        ['pg 1 user 100c', one, 100],
        [`pg ${MANY_USERS} users 100c`, many, 100],
      ];
      for (const [rowName, target, connections] of plan) {
        log(`${rowName}`);
        const scenario: Scenario = { name: rowName, connections, stream: false };
        rows.push({ name: rowName, connections, measured: await measure(target, scenario, seconds, warmupSeconds) });
      }
    } catch (err) {
      console.error(`--- PostgreSQL gateway log tail (${gw.logPath}) ---\n${logTail(gw)}\n---`);
      throw err;
    } finally {
      gw.child.kill('SIGTERM');
      exitCode = (await waitForExit(gw.child, 30_000))?.code;
    }
    // Read after the gateway exited: its backends have flushed their statistics by then.
    const stats = await admin.query<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [name]);
    const deadlocks = Number(stats.rows[0]?.deadlocks ?? 0);
    const check = await runLedgerCheck(dbUrl);
    const errors = rows.reduce((n, r) => n + countErrors(r.measured), 0);
    return {
      rows,
      checks: [
        { name: 'PostgreSQL: no deadlock', pass: deadlocks === 0, detail: `pg_stat_database.deadlocks = ${deadlocks}` },
        { name: 'PostgreSQL: every answer 2xx', pass: errors === 0, detail: `${errors} non-2xx or errors` },
        { name: 'PostgreSQL: gateway exits on SIGTERM', pass: exitCode === 0, detail: `code ${exitCode}` },
        { name: 'PostgreSQL: ledger:check clean after the load', pass: check.code === 0, detail: check.lines.join(' / ') },
      ],
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Prints the rows beside SQLite's figure at the same connections; returns the ratio checks. */
export function reportPostgres(result: PgResult, sqliteRps: (connections: number) => number): Check[] {
  console.log();
  console.log('PostgreSQL (non-stream; "× SQLite" = PostgreSQL req/s ÷ the SQLite gateway\'s req/s at the same connections in this run)');
  const header = ['scenario', 'req/s', 'p50/p99 ms', '× SQLite', 'bad'];
  const lines = result.rows.map((r) => {
    const m = r.measured.main;
    return [r.name, fmt(m.rps, 0), `${fmt(m.p50)}/${fmt(m.p99)}`, fmt(m.rps / sqliteRps(r.connections)), String(countErrors(r.measured))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
  const ratios = result.rows.map((r) => ({ name: r.name, x: r.measured.main.rps / sqliteRps(r.connections) }));
  const worst = Math.min(...ratios.map((r) => r.x));
  return [
    {
      name: `PostgreSQL ≥ ${PG_RATIO_TARGET}× SQLite (every row)`,
      pass: worst >= PG_RATIO_TARGET,
      detail: ratios.map((r) => `${r.name} ${fmt(r.x)}`).join(', '),
    },
    ...result.checks,
  ];
}
