// Dev tool: machine instructions per request of the gateway, counted by valgrind's callgrind, which
// counts instructions rather than seconds, so two checkouts can be compared to within a percent or
// two on a shared, noisy machine (req/s and CPU time swing by ±15 % or more there).
//
//   node --import tsx bench/instructions-per-request.ts [checkout …]
//
// Each checkout (default: this one) must have been built (`npx tsc -p tsconfig.build.json`, which
// writes dist/). Its compiled gateway runs under callgrind on a fresh SQLite database, is configured
// through its HTTP API (a channel to the bench's zero-latency fake upstream, a price, a funded user, a
// key), warmed up, and then the counters are zeroed, N non-streaming chat requests are made with C at
// a time, and the counters are dumped. Env: N (default 400), C (default 1: each settlement batch then
// holds one request, the worst case for per-batch costs), WARMUP (default 200), ROUNDS (default 2;
// rounds alternate between the checkouts), INSTR_NODE_FLAGS (default `--predictable`: V8 compiles
// and collects on the main thread, so background work finishing at a different moment cannot move the
// count between runs).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { freePort, killAll, killChildrenOnExit, startBenchChild, track } from './procs.ts';

const N = Number(process.env.N ?? 400);
const C = Number(process.env.C ?? 1);
const WARMUP = Number(process.env.WARMUP ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const nodeFlags = (process.env.INSTR_NODE_FLAGS ?? '--predictable').split(' ').filter(Boolean);
const checkouts = process.argv.slice(2).length > 0 ? process.argv.slice(2).map((p) => resolve(p)) : [resolve('.')];

async function call(base: string, cookie: string, method: string, path: string, body: unknown): Promise<{ json: any; cookie: string }> {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  const set = res.headers.getSetCookie();
  return { json: text ? JSON.parse(text) : undefined, cookie: set.length ? set.map((c) => c.split(';')[0]).join('; ') : cookie };
}

async function waitReady(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('gateway exited during start');
    try {
      if ((await fetch(base + '/api/status')).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('gateway not ready after 300 s');
}

async function requests(url: string, key: string, n: number, c: number): Promise<void> {
  const body = JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], max_tokens: 16 });
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
      await res.text();
      if (res.status !== 200) throw new Error(`relay answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
}

/** Total instructions (Ir) in the newest callgrind dump written in `dir`. */
function dumpedInstructions(dir: string): number {
  const dumps = readdirSync(dir).filter((f) => f.startsWith('callgrind.out')).sort();
  const text = readFileSync(`${dir}/${dumps.at(-1)}`, 'utf8');
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${dumps.at(-1)}`);
  return Number(m[1]);
}

async function measure(checkout: string, upstreamUrl: string): Promise<number> {
  const dir = mkdtempSync(`${tmpdir()}/instr-`);
  const port = await freePort();
  const admin = randomBytes(8).toString('hex');
  const child = track(
    spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${dir}/callgrind.out.%p`, process.execPath, '--max-semi-space-size=8', ...nodeFlags, 'dist/main.js'], {
      cwd: checkout,
      env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${dir}/bench.db`, DATA_DIR: `${dir}/data`, MOLEAPI_ADMIN_PASSWORD: admin, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'ignore'],
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, child);
  let a = (await call(base, '', 'POST', '/api/auth/login', { username: 'admin', password: admin })).cookie;
  await call(base, a, 'POST', '/api/admin/channels', { name: 'bench', type: 'openai', baseUrl: upstreamUrl, apiKey: 'sk-upstream', models: ['gpt-bench'] });
  await call(base, a, 'PUT', '/api/admin/prices/gpt-bench', { input: '2', output: '8' });
  const username = `instr_${randomBytes(4).toString('hex')}`;
  const reg = await call(base, '', 'POST', '/api/auth/register', { username, password: admin });
  await call(base, a, 'POST', `/api/admin/users/${reg.json.user.id}/adjust`, { quota: 5_000_000_000_000, reason: 'bench' });
  const u = (await call(base, '', 'POST', '/api/auth/login', { username, password: admin })).cookie;
  const key: string = (await call(base, u, 'POST', '/api/keys', { name: 'bench' })).json.key;
  a = '';
  const url = `${base}/v1/chat/completions`;
  await requests(url, key, WARMUP, C);
  const pid = String(child.pid);
  spawnSync('callgrind_control', ['-z', pid], { stdio: 'ignore' });
  await requests(url, key, N, C);
  spawnSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
  const total = dumpedInstructions(dir);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return total / N;
}

killChildrenOnExit();
const up = await startBenchChild('fake-upstream.ts');
const results = new Map<string, number[]>(checkouts.map((c) => [c, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const checkout of checkouts) {
    const perRequest = await measure(checkout, `http://127.0.0.1:${up.port}`);
    results.get(checkout)!.push(perRequest);
    console.log(`round ${round + 1} ${checkout}: ${(perRequest / 1000).toFixed(1)} k instructions per request (N=${N}, C=${C})`);
  }
}
for (const [checkout, values] of results) {
  console.log(`${checkout}: ${values.map((v) => (v / 1000).toFixed(1)).join(', ')} k instructions per request`);
}
killAll();
process.exit(0);
