// Alert rules (pure, property-tested with fast-check), the message texts, and alerts end to end:
// rule → outbox row in the state change's transaction → worker → real receiver, once per crossing.
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import {
  alertDedupeKey,
  balanceCrossedBelow,
  decideBalanceAlert,
  decideKeyLimitAlert,
  INITIAL_ALERT_STATE,
  keyExpiryEntry,
  keyLimitCrossed,
  notificationHandlers,
  renderAlert,
  usdText,
  userAlertEntry,
  type AlertEvent,
  type AlertState,
  type NotifyTarget,
} from '../src/notify/index.ts';
import { enqueue, startOutboxWorker, type OutboxWorker } from '../src/outbox/index.ts';
import { freshDatabase } from './helpers/gateway.ts';
import { startReceiver, type Receiver } from './fakes/notify/receiver.ts';
import { CA_CERT, startSmtpSink, type SmtpSink } from './fakes/notify/smtp-sink.ts';

describe('balance alert rule', () => {
  const points = fc.integer({ min: -2_000_000, max: 2_000_000 });

  it('with a fixed threshold, alerts exactly at each fall below it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(points, { maxLength: 60 }), (threshold, balances) => {
        let state: AlertState = INITIAL_ALERT_STATE;
        let prevBelow = false;
        balances.forEach((balance) => {
          const d = decideBalanceAlert(state, balance, threshold);
          const below = balance < threshold;
          expect(d.alert).toBe(below && !prevBelow);
          state = d.state;
          prevBelow = below;
        });
      }),
    );
  });

  it('never alerts twice without the balance reaching the threshold in between, even as the threshold changes', () => {
    const step = fc.record({ balance: points, threshold: fc.option(fc.integer({ min: -10, max: 1_000_000 }), { nil: null }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        let state: AlertState = INITIAL_ALERT_STATE;
        let rearmedSinceAlert = true;
        for (const { balance, threshold } of steps) {
          const d = decideBalanceAlert(state, balance, threshold);
          const active = threshold !== null && threshold > 0;
          if (d.alert) {
            expect(active && balance < threshold!).toBe(true);
            expect(rearmedSinceAlert).toBe(true);
            rearmedSinceAlert = false;
          } else if (active && balance < threshold! && !state.alerted) {
            throw new Error('a fall below an active threshold from an armed state must alert');
          }
          if (!active || balance >= threshold!) rearmedSinceAlert = true;
          state = d.state;
        }
      }),
    );
  });

  it('balanceCrossedBelow(before, after) agrees with the stateful rule and fires once per ledger walk crossing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), points, fc.array(fc.integer({ min: -500_000, max: 500_000 }), { maxLength: 60 }), (threshold, start, deltas) => {
        let balance = start;
        let state: AlertState = { alerted: start < threshold };
        let crossings = 0;
        let falls = 0;
        for (const delta of deltas) {
          const after = balance + delta;
          const crossed = balanceCrossedBelow(balance, after, threshold);
          expect(crossed).toBe(decideBalanceAlert(state, after, threshold).alert);
          state = decideBalanceAlert(state, after, threshold).state;
          if (crossed) crossings++;
          if (balance >= threshold && after < threshold) falls++;
          balance = after;
        }
        expect(crossings).toBe(falls);
      }),
    );
  });

  it('a threshold of 0 or null is off', () => {
    expect(decideBalanceAlert(INITIAL_ALERT_STATE, -5, 0).alert).toBe(false);
    expect(decideBalanceAlert(INITIAL_ALERT_STATE, -5, null).alert).toBe(false);
    expect(balanceCrossedBelow(10, -5, 0)).toBe(false);
    // Exactly at the threshold is not below it, and re-arms.
    expect(decideBalanceAlert(INITIAL_ALERT_STATE, 100, 100).alert).toBe(false);
    expect(decideBalanceAlert({ alerted: true }, 100, 100).state.alerted).toBe(false);
  });
});

describe('key limit rule', () => {
  it('alerts once when used reaches the limit, again only after the limit is raised above use and reached anew', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ used: fc.integer({ min: 0, max: 1000 }), limit: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }) }), { maxLength: 60 }),
        (steps) => {
          let state: AlertState = INITIAL_ALERT_STATE;
          let prevExhausted = false;
          for (const { used, limit } of steps) {
            const d = decideKeyLimitAlert(state, used, limit);
            const exhausted = limit !== null && used >= limit;
            expect(d.alert).toBe(exhausted && !prevExhausted);
            state = d.state;
            prevExhausted = exhausted;
          }
        },
      ),
    );
    expect(keyLimitCrossed(900, 1000, 1000)).toBe(true);
    expect(keyLimitCrossed(1000, 1200, 1000)).toBe(false);
    expect(keyLimitCrossed(0, 10 ** 9, null)).toBe(false);
  });
});

describe('message texts', () => {
  it('formats USD with at least two decimals and exact values', () => {
    expect(usdText(500_000)).toBe('$1.00');
    expect(usdText(6_250_000)).toBe('$12.50');
    expect(usdText(1)).toBe('$0.000002');
    expect(usdText(-520_000)).toBe('-$1.04');
    expect(usdText(0)).toBe('$0.00');
  });

  it('renders each event with a title, a sentence and its figures', () => {
    const low = renderAlert({ type: 'balance_low', balance: 200_000, threshold: 500_000 });
    expect(low.title).toBe('MoleAPI: balance below $1.00');
    expect(low.content).toContain('Your balance is $0.40, below your alert threshold of $1.00.');
    expect(low.values).toEqual({ balance: { quota: 200_000, usd: '0.400000' }, threshold: { quota: 500_000, usd: '1.000000' } });
    const limit = renderAlert({ type: 'key_limit_exhausted', keyId: 7, keyName: 'ci', used: 1_000_000, limit: 1_000_000 });
    expect(limit.title).toBe('MoleAPI: key "ci" reached its limit');
    expect(limit.values).toMatchObject({ keyId: 7, keyName: 'ci', limit: { quota: 1_000_000, usd: '2.000000' } });
    const expired = renderAlert({ type: 'key_expired', keyId: 8, keyName: 'old', expiresAt: Date.UTC(2026, 0, 2, 3, 4, 5) });
    expect(expired.content).toContain('expired at 2026-01-02T03:04:05.000Z');
    expect(renderAlert({ type: 'test' }).type).toBe('test');
  });
});

describe('alerts end to end (outbox + real receivers)', () => {
  const THRESHOLD = 500_000; // $1
  let fresh: { url: string; drop: () => Promise<void> };
  let db: Database;
  let worker: OutboxWorker;
  let webhook: Receiver;
  let bark: Receiver;
  let gotify: Receiver;
  let sink: SmtpSink;
  const targets = new Map<number, NotifyTarget | null>();
  const irrelevant = new Set<number>();

  beforeAll(async () => {
    fresh = await freshDatabase();
    db = await openDatabase(fresh.url);
    await migrate(db);
    [webhook, bark, gotify, sink] = await Promise.all([startReceiver('webhook'), startReceiver('bark'), startReceiver('gotify', { gotifyToken: 'tok-1' }), startSmtpSink({ mode: 'none' })]);
    targets.set(1, { method: 'webhook', webhookUrl: `${webhook.url}/hook`, webhookSecret: 'sec' });
    targets.set(2, { method: 'bark', barkUrl: `${bark.url}/DEVICE` });
    targets.set(3, { method: 'gotify', gotifyUrl: gotify.url, gotifyToken: 'tok-1', gotifyPriority: 9 });
    targets.set(4, { method: 'email', email: 'owner@example.com' });
    targets.set(5, null);
    const handlers = notificationHandlers({
      target: async (userId) => targets.get(userId) ?? null,
      smtp: async () => ({ host: '127.0.0.1', port: sink.port, security: 'none', from: 'MoleAPI <alerts@moleapi.test>' }),
      allowPrivate: async () => true,
      stillRelevant: async (userId) => !irrelevant.has(userId),
      emailTls: { ca: CA_CERT },
      timeoutMs: 3000,
    });
    worker = startOutboxWorker(db, handlers, pino({ level: 'silent' }), { pollMs: 20, baseDelayMs: 50 });
  });

  afterAll(async () => {
    await worker.stop();
    await Promise.all([webhook.close(), bark.close(), gotify.close(), sink.close()]);
    await db.close();
    await fresh.drop();
  });

  /** One "settlement": a balance change written with its alert (if it crosses) in one transaction. */
  async function settle(userId: number, reference: string, before: number, after: number): Promise<void> {
    await db.tx(async (q) => {
      // Stands in for the ledger entry; tolerant of a replay so the outbox's own dedupe is what is tested.
      await q.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [`fake-ledger:${reference}`, String(after)]);
      if (balanceCrossedBelow(before, after, THRESHOLD)) {
        await enqueue(q, userAlertEntry(userId, { type: 'balance_low', balance: after, threshold: THRESHOLD }, alertDedupeKey.balanceLow(userId, reference)));
      }
    });
    worker.kick();
  }

  /** Balance walk 2.00 → 1.20 → 0.80 (alert) → 0.30 → 3.00 (top-up) → 0.90 (alert) → 0.10. */
  async function walk(userId: number): Promise<void> {
    const balances = [1_000_000, 600_000, 400_000, 150_000, 1_500_000, 450_000, 50_000];
    for (let i = 1; i < balances.length; i++) await settle(userId, `req:${userId}:${i}`, balances[i - 1]!, balances[i]!);
  }

  async function drained(): Promise<void> {
    const end = Date.now() + 10_000;
    for (;;) {
      const row = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'`);
      if (Number(row!.n) === 0) return;
      if (Date.now() > end) throw new Error('outbox not drained');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('webhook: one signed alert per crossing', async () => {
    await walk(1);
    await drained();
    expect(webhook.requests).toHaveLength(2);
    const bodies = webhook.requests.map((r) => JSON.parse(r.rawBody));
    expect(bodies.map((b) => b.type)).toEqual(['balance_low', 'balance_low']);
    expect(bodies.map((b) => b.values.balance.quota)).toEqual([400_000, 450_000]);
    expect(bodies[0].title).toBe('MoleAPI: balance below $1.00');
  });

  it('Bark: one push per crossing', async () => {
    await walk(2);
    await drained();
    expect(bark.requests).toHaveLength(2);
    expect(bark.requests.map((r) => decodeURIComponent(r.path.split('/')[3]!))).toEqual([
      expect.stringContaining('Your balance is $0.80'),
      expect.stringContaining('Your balance is $0.90'),
    ]);
  });

  it('Gotify: one message per crossing, with the chosen priority', async () => {
    await walk(3);
    await drained();
    expect(gotify.requests).toHaveLength(2);
    expect(gotify.requests.map((r) => JSON.parse(r.rawBody).priority)).toEqual([9, 9]);
  });

  it('email: one message per crossing through SMTP', async () => {
    await walk(4);
    await drained();
    await sink.waitForMails(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.mails).toHaveLength(2);
    expect(sink.mails.map((m) => [m.envelopeTo[0], m.subject])).toEqual([
      ['owner@example.com', 'MoleAPI: balance below $1.00'],
      ['owner@example.com', 'MoleAPI: balance below $1.00'],
    ]);
    expect(sink.mails[1]!.text).toContain('Your balance is $0.90');
  });

  it('a settlement replayed with the same reference enqueues nothing more', async () => {
    const before = webhook.requests.length;
    await settle(1, 'req:1:2', 600_000, 400_000); // the crossing entry of the walk, again
    await drained();
    expect(webhook.requests.length).toBe(before);
  });

  it('a receiver failing at first gets the alert once it recovers, delivered once', async () => {
    webhook.failNext(503, 503);
    const before = webhook.requests.length;
    await settle(1, 'req:1:retry', 2_000_000, 100_000);
    await drained();
    const seen = webhook.requests.slice(before);
    expect(seen).toHaveLength(3); // two refused, one accepted
    expect(new Set(seen.map((r) => JSON.parse(r.rawBody).values.balance.quota))).toEqual(new Set([100_000]));
    const row = await db.get<{ status: string; attempts: number }>(`SELECT status, attempts FROM outbox WHERE dedupe_key = ?`, [alertDedupeKey.balanceLow(1, 'req:1:retry')]);
    expect(row!.status).toBe('done');
    expect(Number(row!.attempts)).toBe(3);
  });

  it('no alert is sent to a user without settings, or when the event is no longer relevant', async () => {
    const before = webhook.requests.length;
    await settle(5, 'req:5:1', 900_000, 100_000);
    irrelevant.add(1);
    await settle(1, 'req:1:irrelevant', 900_000, 100_000);
    await drained();
    irrelevant.delete(1);
    expect(webhook.requests.length).toBe(before);
    const done = await db.all<{ status: string }>(`SELECT status FROM outbox WHERE dedupe_key IN (?, ?)`, [alertDedupeKey.balanceLow(5, 'req:5:1'), alertDedupeKey.balanceLow(1, 'req:1:irrelevant')]);
    expect(done.map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('a key-expired alert runs when the key expires, once per expiry time', async () => {
    const before = webhook.requests.length;
    const expiresAt = Date.now() + 400;
    await db.tx(async (q) => {
      await enqueue(q, keyExpiryEntry(1, { id: 42, name: 'ci-key', expiresAt }));
      await enqueue(q, keyExpiryEntry(1, { id: 42, name: 'ci-key', expiresAt })); // key saved twice
    });
    worker.kick();
    await new Promise((r) => setTimeout(r, 150));
    expect(webhook.requests.length).toBe(before);
    await webhook.waitForRequests(before + 1);
    const body = JSON.parse(webhook.requests[before]!.rawBody);
    expect(body.type).toBe('key_expired');
    expect(body.values).toMatchObject({ keyId: 42, keyName: 'ci-key' });
    expect(body.timestamp * 1000).toBeGreaterThanOrEqual(Math.floor(expiresAt / 1000) * 1000);
    await drained();
    expect(webhook.requests.length).toBe(before + 1);
  });

  it('key limit exhausted: one alert for the settlement that reaches the limit', async () => {
    const before = bark.requests.length;
    const limit = 1_000_000;
    const uses = [0, 400_000, 900_000, 1_050_000, 1_100_000];
    for (let i = 1; i < uses.length; i++) {
      if (!keyLimitCrossed(uses[i - 1]!, uses[i]!, limit)) continue;
      const event: AlertEvent = { type: 'key_limit_exhausted', keyId: 9, keyName: 'batch', used: uses[i]!, limit };
      await db.tx((q) => enqueue(q, userAlertEntry(2, event, alertDedupeKey.keyLimit(9, `req:k:${i}`))));
    }
    worker.kick();
    await bark.waitForRequests(before + 1);
    await drained();
    expect(bark.requests.length).toBe(before + 1);
    expect(decodeURIComponent(bark.requests[before]!.path.split('/')[2]!)).toBe('MoleAPI: key "batch" reached its limit');
  });
});
