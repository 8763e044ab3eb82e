// The durable outbox on the real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set):
// atomic enqueue, retries with backoff, dead rows, restarts, and on PostgreSQL two workers sharing rows.
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { enqueue, retryDelayMs, startOutboxWorker, type OutboxHandler, type OutboxWorker } from '../src/outbox/index.ts';
import { claimDue, markDone, markFailed } from '../src/outbox/store.ts';
import { freshDatabase } from './helpers/gateway.ts';
import { until } from './helpers/poll.ts';

const log = pino({ level: 'silent' });
const isPg = Boolean(process.env.TEST_DATABASE_URL);

interface Row {
  id: number;
  kind: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  done_at: number | null;
}

let fresh: { url: string; drop: () => Promise<void> };
let db: Database;
const workers: OutboxWorker[] = [];
const extraDbs: Database[] = [];

const rowOf = async (id: number, on: Database = db) => (await on.get<Row>('SELECT * FROM outbox WHERE id = ?', [id]))!;
const start = (handlers: Record<string, OutboxHandler>, opts: Parameters<typeof startOutboxWorker>[3] = {}, on: Database = db) => {
  const w = startOutboxWorker(on, handlers, log, { pollMs: 20, baseDelayMs: 40, handlerTimeoutMs: 2000, ...opts });
  workers.push(w);
  return w;
};
const enqueueNow = (kind: string, payload: unknown, extra: { dedupeKey?: string; runAt?: number } = {}) =>
  db.tx((q) => enqueue(q, { kind, payload, ...extra }));

beforeEach(async () => {
  fresh = await freshDatabase();
  db = await openDatabase(fresh.url);
  await migrate(db);
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(extraDbs.splice(0).map((d) => d.close().catch(() => undefined)));
  await db.close().catch(() => undefined);
  await fresh.drop();
});

describe('enqueue', () => {
  it('is part of the caller transaction: a rollback leaves no row, a commit leaves one', async () => {
    await expect(
      db.tx(async (q) => {
        await enqueue(q, { kind: 'mail', payload: { n: 1 } });
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect((await db.all('SELECT id FROM outbox')).length).toBe(0);

    const id = await enqueueNow('mail', { n: 2, text: 'é ✓' });
    const row = await db.get<{ payload: string; status: string; attempts: number }>('SELECT payload, status, attempts FROM outbox WHERE id = ?', [id]);
    expect(JSON.parse(row!.payload)).toEqual({ n: 2, text: 'é ✓' });
    expect(row!.status).toBe('pending');
    expect(Number(row!.attempts)).toBe(0);
  });

  it('with a dedupe key records one row; the duplicate does not break the caller transaction', async () => {
    const first = await enqueueNow('mail', { n: 1 }, { dedupeKey: 'alert:1' });
    expect(first).toBeTypeOf('number');
    const second = await db.tx(async (q) => {
      const again = await enqueue(q, { kind: 'mail', payload: { n: 2 }, dedupeKey: 'alert:1' });
      // On PostgreSQL a caught unique violation would have aborted this transaction.
      await q.run('INSERT INTO settings (key, value) VALUES (?, ?)', ['after-duplicate', '1']);
      return again;
    });
    expect(second).toBeNull();
    expect(await db.get('SELECT value FROM settings WHERE key = ?', ['after-duplicate'])).toEqual({ value: '1' });
    const rows = await db.all<{ payload: string }>('SELECT payload FROM outbox');
    expect(rows.map((r) => JSON.parse(r.payload))).toEqual([{ n: 1 }]);
    // Rows without a key never collide.
    await enqueueNow('mail', {});
    await enqueueNow('mail', {});
    expect((await db.all('SELECT id FROM outbox')).length).toBe(3);
  });
});

describe('worker', () => {
  it('runs a committed row with its payload, then marks it done', async () => {
    const seen: unknown[] = [];
    const w = start({ mail: async (p, ctx) => void seen.push({ p, attempt: ctx.attempt }) });
    const id = (await enqueueNow('mail', { to: 'a@example.com' }))!;
    w.kick();
    await until(async () => (await rowOf(id)).status === 'done');
    expect(seen).toEqual([{ p: { to: 'a@example.com' }, attempt: 1 }]);
    const row = await rowOf(id);
    expect(Number(row.attempts)).toBe(1);
    expect(row.last_error).toBeNull();
    expect(Number(row.done_at)).toBeGreaterThan(0);
  });

  it('retries a failing row with growing delays, then succeeds', async () => {
    const times: number[] = [];
    // random() = 0: each delay is exactly half the nominal one (40·2^(n−1)), the shortest jitter allows.
    start(
      {
        flaky: async () => {
          times.push(Date.now());
          if (times.length < 4) throw new Error(`receiver said 503 (try ${times.length})`);
        },
      },
      { baseDelayMs: 200, random: () => 0 },
    );
    const id = (await enqueueNow('flaky', {}))!;
    await until(async () => (await rowOf(id)).status === 'done');
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
    const row = await rowOf(id);
    expect(Number(row.attempts)).toBe(4);
    expect(row.last_error).toBeNull();
  });

  it('records the error and the next attempt time between retries', async () => {
    start({ down: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9')) }, { baseDelayMs: 60_000, random: () => 0.5 });
    const before = Date.now();
    const id = (await enqueueNow('down', {}))!;
    await until(async () => (await rowOf(id)).last_error !== null);
    const row = await rowOf(id);
    expect(row.status).toBe('pending');
    expect(Number(row.attempts)).toBe(1);
    expect(row.last_error).toBe('connect ECONNREFUSED 127.0.0.1:9');
    // 60 s nominal, jitter 0.5 → 45 s from the failure.
    expect(Number(row.next_attempt_at) - before).toBeGreaterThanOrEqual(45_000);
    expect(Number(row.next_attempt_at) - Date.now()).toBeLessThanOrEqual(45_000);
  });

  it('marks a row dead after maxAttempts failures and runs it no more', async () => {
    let calls = 0;
    start({ broken: async () => Promise.reject(new Error(`HTTP 500 from receiver (${++calls})`)) }, { maxAttempts: 3, baseDelayMs: 20 });
    const id = (await enqueueNow('broken', {}))!;
    await until(async () => (await rowOf(id)).status === 'dead');
    const row = await rowOf(id);
    expect(Number(row.attempts)).toBe(3);
    expect(row.last_error).toBe('HTTP 500 from receiver (3)');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(3);
  });

  it('marks a row dead at once when the handler throws a permanent error', async () => {
    let calls = 0;
    start({ refused: async () => Promise.reject(Object.assign(new Error('URL refused: private address'), { permanent: true, _n: ++calls })) });
    const id = (await enqueueNow('refused', {}))!;
    await until(async () => (await rowOf(id)).status === 'dead');
    expect(Number((await rowOf(id)).attempts)).toBe(1);
    expect((await rowOf(id)).last_error).toBe('URL refused: private address');
    expect(calls).toBe(1);
  });

  it('fails a run that exceeds handlerTimeoutMs and aborts its signal', async () => {
    let aborted = false;
    start(
      {
        slow: (_p, ctx) =>
          new Promise((_res, rej) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              rej(new Error('aborted'));
            });
          }),
      },
      { handlerTimeoutMs: 150, maxAttempts: 1 },
    );
    const id = (await enqueueNow('slow', {}))!;
    await until(async () => (await rowOf(id)).status === 'dead');
    expect((await rowOf(id)).last_error).toBe('timed out after 150 ms');
    expect(aborted).toBe(true);
  });

  it('leaves kinds it has no handler for pending, and does not run rows before runAt', async () => {
    const ran: string[] = [];
    start({ known: async (p) => void ran.push(p.name) });
    const other = (await enqueueNow('unknown-kind', {}))!;
    const later = (await enqueueNow('known', { name: 'later' }, { runAt: Date.now() + 400 }))!;
    const now = (await enqueueNow('known', { name: 'now' }))!;
    await until(async () => (await rowOf(now)).status === 'done');
    expect((await rowOf(later)).status).toBe('pending');
    await until(async () => (await rowOf(later)).status === 'done');
    expect(ran).toEqual(['now', 'later']);
    expect((await rowOf(other)).status).toBe('pending');
    expect(Number((await rowOf(other)).attempts)).toBe(0);
  });

  it('survives a restart: rows enqueued while no worker ran are picked up when one starts', async () => {
    const ran: number[] = [];
    const first = start({ job: async (p) => void ran.push(p.n) });
    await enqueueNow('job', { n: 1 });
    await until(() => ran.length === 1);
    await first.stop();
    for (const n of [2, 3, 4]) await enqueueNow('job', { n });
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toEqual([1]); // stopped: nothing runs
    start({ job: async (p) => void ran.push(p.n) }, { pollMs: 60_000 }); // only the start-up poll can find them
    await until(() => ran.length === 4);
    expect(ran.sort()).toEqual([1, 2, 3, 4]);
  });

  it('stop() waits for a run in progress and records its result', async () => {
    let release!: () => void;
    const w = start({ job: () => new Promise<void>((r) => (release = r)) });
    const id = (await enqueueNow('job', {}))!;
    await until(() => release !== undefined);
    const stopping = w.stop();
    release();
    await stopping;
    expect((await rowOf(id)).status).toBe('done');
  });

  it('after a crash mid-run, the row runs again once its lease has expired', async () => {
    // Instance A claims the row, then "dies": its database connection goes away while the handler runs,
    // so it can never report (its run times out at 500 ms and fails to record that too).
    const dbA = await openDatabase(fresh.url);
    extraDbs.push(dbA);
    // (Enqueued first: two SQLite connections in one process writing at once would wait on each other.)
    const id = (await enqueueNow('job', { n: 1 }))!;
    let claimedByA = false;
    const a = start({ job: () => ((claimedByA = true), new Promise<void>(() => undefined)) }, { leaseMs: 700, handlerTimeoutMs: 500 }, dbA);
    await until(() => claimedByA);
    await dbA.close();
    const claimed = await rowOf(id);
    expect(Number(claimed.attempts)).toBe(1);
    expect(Number(claimed.next_attempt_at)).toBeGreaterThan(Date.now());

    // Instance B polls all along but cannot take the row until A's lease ends.
    const ranB: number[] = [];
    start({ job: async () => void ranB.push(Date.now()) });
    await new Promise((r) => setTimeout(r, 200));
    expect(ranB).toHaveLength(0);
    await until(async () => (await rowOf(id)).status === 'done');
    expect(ranB).toHaveLength(1);
    expect(ranB[0]!).toBeGreaterThanOrEqual(Number(claimed.next_attempt_at));
    expect(Number((await rowOf(id)).attempts)).toBe(2);
    await a.stop();
  });

  it('a claim takes at most the limit, oldest due first, and only the kinds asked for', async () => {
    await db.tx(async (q) => {
      for (let n = 0; n < 20; n++) await enqueue(q, { kind: n % 2 ? 'odd' : 'even', payload: { n }, runAt: 1000 + n });
    });
    const claimed = await claimDue(db, ['even'], 3, Date.now(), Date.now() + 60_000, 5);
    expect(claimed.map((r) => JSON.parse(r.payload).n)).toEqual([0, 2, 4]);
    expect(claimed.every((r) => r.attempts === 1 && r.kind === 'even')).toBe(true);
    const next = await claimDue(db, ['even', 'odd'], 4, Date.now(), Date.now() + 60_000, 5);
    expect(next.map((r) => JSON.parse(r.payload).n).sort((a, b) => a - b)).toEqual([1, 3, 5, 6]);
  });

  it('a result reported after the claim was lost changes nothing (fencing by attempt number)', async () => {
    const id = (await enqueueNow('job', {}))!;
    const now = Date.now();
    const [first] = await claimDue(db, ['job'], 1, now, now + 50, 5);
    expect(first!.id).toBe(id);
    expect(await claimDue(db, ['job'], 1, Date.now(), Date.now() + 50, 5)).toEqual([]); // leased
    await new Promise((r) => setTimeout(r, 60));
    const [second] = await claimDue(db, ['job'], 1, Date.now(), Date.now() + 60_000, 5);
    expect(second!.attempts).toBe(2);
    expect(await markDone(db, first!, Date.now())).toBe(false);
    expect(await markFailed(db, first!, 'late failure', null, Date.now())).toBe(false);
    expect((await rowOf(id)).status).toBe('pending');
    expect(await markDone(db, second!, Date.now())).toBe(true);
    expect((await rowOf(id)).status).toBe('done');
    expect((await rowOf(id)).last_error).toBeNull();
  });

  it('a row whose last attempt was abandoned becomes dead when its lease expires', async () => {
    const dbA = await openDatabase(fresh.url);
    extraDbs.push(dbA);
    const id = (await enqueueNow('job', {}))!;
    let claimedByA = false;
    const a = start({ job: () => ((claimedByA = true), new Promise<void>(() => undefined)) }, { leaseMs: 300, handlerTimeoutMs: 250, maxAttempts: 1 }, dbA);
    await until(() => claimedByA);
    await dbA.close();
    await new Promise((r) => setTimeout(r, 350));
    let ranB = 0;
    start({ job: async () => void ranB++ }, { maxAttempts: 1 }); // its start-up housekeeping buries the row
    await until(async () => (await rowOf(id)).status === 'dead');
    expect(ranB).toBe(0);
    expect((await rowOf(id)).last_error).toContain('abandoned');
    await a.stop();
  });
});

describe.skipIf(!isPg)('two workers on one PostgreSQL database', () => {
  it('never run one row twice, and run every row', async () => {
    const dbB = await openDatabase(fresh.url);
    extraDbs.push(dbB);
    const runs = new Map<number, string[]>();
    // Each run waits until both workers have started one, so the two really compete for rows
    // (neither can drain the table alone before the other's first poll).
    const started = new Set<string>();
    let bothStarted!: () => void;
    const barrier = new Promise<void>((r) => (bothStarted = r));
    const handler = (name: string): OutboxHandler => async (p) => {
      runs.set(p.n, [...(runs.get(p.n) ?? []), name]);
      started.add(name);
      if (started.size === 2) bothStarted();
      await barrier;
      await new Promise((r) => setTimeout(r, Math.random() * 5));
    };
    const total = 300;
    await db.tx(async (q) => {
      for (let n = 0; n < total; n++) await enqueue(q, { kind: 'job', payload: { n } });
    });
    start({ job: handler('A') }, { pollMs: 5, concurrency: 8 });
    start({ job: handler('B') }, { pollMs: 5, concurrency: 8 }, dbB);
    await until(async () => Number((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'done'`))!.n) === total, { timeoutMs: 30_000 });
    expect(runs.size).toBe(total);
    const twice = [...runs.entries()].filter(([, by]) => by.length !== 1);
    expect(twice).toEqual([]);
    const by = [...runs.values()].flat();
    expect(by.filter((n) => n === 'A').length).toBeGreaterThan(0);
    expect(by.filter((n) => n === 'B').length).toBeGreaterThan(0);
    const attempts = await db.all<{ attempts: number }>('SELECT attempts FROM outbox');
    expect(attempts.every((r) => Number(r.attempts) === 1)).toBe(true);
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt, is capped, and jitters within [half, full] of the nominal delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 10_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, base, max, r) => {
        const nominal = Math.min(max, base * 2 ** Math.min(attempt - 1, 40));
        const d = retryDelayMs(attempt, { baseDelayMs: base, maxDelayMs: max }, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(nominal / 2));
        expect(d).toBeLessThanOrEqual(Math.ceil(nominal));
      }),
    );
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, { baseDelayMs: 1000, maxDelayMs: 5000 }, () => 0.999999))).toEqual([1000, 2000, 4000, 5000]);
  });
});
