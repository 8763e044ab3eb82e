// Runs outbox rows off the request path: polls, claims due rows (safe with several instances on one
// PostgreSQL), runs each kind's handler with a timeout, and records done / retry-with-backoff / dead.
import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import { retryDelayMs } from './backoff.ts';
import { buryAbandoned, claimDue, markDone, markFailed, purgeDone, type ClaimedRow } from './store.ts';

export interface OutboxJobContext {
  id: number;
  kind: string;
  /** 1 for the first run. */
  attempt: number;
  /** Aborted when the run times out: pass it to outbound calls. */
  signal: AbortSignal;
}

/** Runs one row. Throw to retry; throw an error with `permanent: true` to make the row dead at once. */
export type OutboxHandler = (payload: any, ctx: OutboxJobContext) => Promise<void>;

export interface OutboxWorkerOptions {
  /** Time between polls when idle (kick() polls at once). Default 1000. */
  pollMs: number;
  /** Rows run at the same time by this worker. Default 4. */
  concurrency: number;
  /** Attempts before a row is dead. Default 10 (with the default delays, about 40 minutes in all). */
  maxAttempts: number;
  /** First retry delay before jitter; doubles per attempt. Default 5000. */
  baseDelayMs: number;
  /** Cap of a retry delay before jitter. Default 3600000 (1 h). */
  maxDelayMs: number;
  /** A run still going after this is failed (and its signal aborted). Default 60000. */
  handlerTimeoutMs: number;
  /**
   * How long a claim keeps other workers off a row. Must exceed handlerTimeoutMs; after a crash the
   * row runs again once it has passed. Default handlerTimeoutMs + 60000.
   */
  leaseMs: number;
  /** Done rows older than this are deleted (hourly). Default 7 days; 0 keeps them. */
  retainDoneMs: number;
  random: () => number;
}

export interface OutboxWorker {
  /** Stops polling and waits for the runs in progress to record their result (≤ handlerTimeoutMs). */
  stop(): Promise<void>;
  /** Polls now (call after committing a transaction that enqueued something). */
  kick(): void;
}

const HOUR = 3_600_000;

export function startOutboxWorker(
  db: Database,
  handlers: Record<string, OutboxHandler>,
  log: Logger,
  options: Partial<OutboxWorkerOptions> = {},
): OutboxWorker {
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 60_000;
  const opts: OutboxWorkerOptions = {
    pollMs: 1000,
    concurrency: 4,
    maxAttempts: 10,
    baseDelayMs: 5000,
    maxDelayMs: HOUR,
    retainDoneMs: 7 * 24 * HOUR,
    random: Math.random,
    ...options,
    handlerTimeoutMs,
    leaseMs: options.leaseMs ?? handlerTimeoutMs + 60_000,
  };
  if (opts.leaseMs <= opts.handlerTimeoutMs) throw new Error('outbox leaseMs must exceed handlerTimeoutMs');
  const kinds = Object.keys(handlers);
  const running = new Set<Promise<void>>();
  let stopped = false;
  let polling: Promise<void> | null = null;
  let pollAgain = false;
  let timer: NodeJS.Timeout | null = null;
  let lastHousekeeping = 0;

  function schedule(ms: number) {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(kick, ms);
    timer.unref();
  }

  function kick() {
    if (stopped) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = poll()
      .catch((err) => log.error({ err }, 'outbox poll failed'))
      .finally(() => {
        polling = null;
        if (pollAgain) {
          pollAgain = false;
          kick();
        } else schedule(opts.pollMs);
      });
  }

  async function poll() {
    const now = Date.now();
    if (now - lastHousekeeping >= HOUR) {
      lastHousekeeping = now;
      const buried = await buryAbandoned(db, opts.maxAttempts, now);
      if (buried > 0) log.warn({ buried }, 'outbox rows dead after their last attempt was abandoned');
      if (opts.retainDoneMs > 0) await purgeDone(db, now - opts.retainDoneMs);
    }
    const free = opts.concurrency - running.size;
    if (free <= 0) return;
    const rows = await claimDue(db, kinds, free, now, now + opts.leaseMs, opts.maxAttempts);
    for (const row of rows) {
      const run = execute(row).finally(() => {
        running.delete(run);
        kick(); // a slot is free: more may be due
      });
      running.add(run);
    }
    if (rows.length === free) pollAgain = true;
  }

  async function execute(row: ClaimedRow) {
    const handler = handlers[row.kind]!;
    const signal = AbortSignal.timeout(opts.handlerTimeoutMs);
    let error: unknown = null;
    try {
      let payload: unknown;
      try {
        payload = JSON.parse(row.payload);
      } catch {
        throw Object.assign(new Error('payload is not valid JSON'), { permanent: true });
      }
      await raceAbort(handler(payload, { id: row.id, kind: row.kind, attempt: row.attempts, signal }), signal);
    } catch (err) {
      error = err;
    }
    const now = Date.now();
    try {
      if (error === null) {
        if (!(await markDone(db, row, now))) log.warn({ id: row.id, kind: row.kind }, 'outbox row finished after its claim was lost');
        return;
      }
      const message = describe(error, signal);
      const permanent = (error as { permanent?: unknown } | null)?.permanent === true;
      const dead = permanent || row.attempts >= opts.maxAttempts;
      const retryAt = dead ? null : now + retryDelayMs(row.attempts, opts, opts.random);
      await markFailed(db, row, message, retryAt, now);
      if (dead) log.warn({ id: row.id, kind: row.kind, attempts: row.attempts, error: message }, 'outbox row is dead');
      else log.info({ id: row.id, kind: row.kind, attempts: row.attempts, retryAt, error: message }, 'outbox row failed, will retry');
    } catch (err) {
      // The lease brings the row back; nothing else to do.
      log.error({ err, id: row.id }, 'outbox could not record a result');
    }
  }

  function describe(error: unknown, signal: AbortSignal): string {
    if (signal.aborted) return `timed out after ${opts.handlerTimeoutMs} ms`;
    const text = error instanceof Error ? error.message : String(error);
    return text.slice(0, 1000) || 'failed without a message';
  }

  // Pending rows left by an earlier process are due now (or once their lease ends): poll at once.
  kick();

  return {
    kick,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await polling;
      // Each run ends within handlerTimeoutMs; its result is recorded before stop() returns.
      await Promise.allSettled([...running]);
    },
  };
}

/** Settles when the work does or the signal aborts, whichever comes first. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
