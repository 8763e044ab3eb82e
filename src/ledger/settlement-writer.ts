import { isUniqueViolation, type Database, type Queryable } from '../db/index.ts';
import { enqueue, type OutboxEntry } from '../outbox/index.ts';
import type { SettlementJournal } from './settlement-journal.ts';
import { alreadySettled, applySettlements, dropHold, type SettledAccounts, type Settlement } from './settlement-sql.ts';

export type { Settlement };

/** A committed batch with what its own UPDATEs returned (balances, key usage): no query was added. */
export interface SettledBatch extends SettledAccounts {
  items: readonly Settlement[];
}

/**
 * The outbox rows a committed batch calls for (the gateway's balance and key-limit alerts), judged in
 * memory. Rows need dedupe keys: on PostgreSQL they are written right after the settlement's commit.
 */
export type SettlementEffects = (batch: SettledBatch) => OutboxEntry[];

interface Pending {
  s: Settlement;
  resolve: () => void;
  reject: (err: unknown) => void;
}

// Bounds one transaction (and the hold-id list PostgreSQL deletes in one statement).
const MAX_BATCH = 500;
// Backoff for settlements the database refused: from FIRST_RETRY_MS doubling up to MAX_RETRY_MS.
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;
const noop = () => {};

/** The settlement could not be committed now; it is kept and retried, so the charge is not lost. */
export class SettlementDeferred extends Error {
  constructor(cause: unknown) {
    super(`settlement deferred: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/**
 * Group commit for settlements. Requests finishing at the same moment are settled in one transaction:
 * one conditional-free update per user and per key (sums), one multi-row insert of ledger entries and
 * one of usage-log rows. Each request's promise resolves only after that commit, so a caller never
 * sees an answer whose charge is not durable. If a batch fails, its requests are retried one by one so
 * a single bad item cannot sink the others.
 *
 * A request the database still refuses (it is down, the disk is full) was nonetheless served, so its
 * charge is owed: the promise rejects with SettlementDeferred, the item stays here (its hold with it)
 * and is retried with backoff until it commits. What is still owed at shutdown is handed to close()'s
 * caller to be kept on disk and replayed at the next start.
 *
 * With a journal (PostgreSQL, settlement-journal.ts) the promise resolves as soon as the settlement is
 * written there, before its commit: the commit, batched as above, follows in the background, and the
 * hold stays until it lands, so the points cannot be spent twice meanwhile.
 */
export class SettlementWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private owed: Settlement[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = FIRST_RETRY_MS;
  private retrying: Promise<unknown> | undefined;
  private closed = false;
  private flushing = false;
  // Commits run one at a time (flushes and retries of owed charges alike): concurrent transactions of
  // one instance would only queue on the same rows, and batches grow while one commit is in flight.
  private lane: Promise<unknown> = Promise.resolve();
  private journal: SettlementJournal | undefined;
  // Settlements queued so far, and those taken off the queue and committed (or owed) so far, in
  // queue order: settled() waits for the second to reach the first.
  private queued = 0;
  private done = 0;
  private waiters: Array<{ upTo: number; resolve: () => void }> = [];

  constructor(
    private db: Database,
    private dbHolds: boolean,
    /** Called with the items once committed; their reservations can go. */
    private afterCommit: (items: Settlement[]) => void,
  ) {}

  /** Batches committed, and batches the database refused as a whole (then settled one by one). */
  readonly stats = { batches: 0, batchesRefused: 0 };

  /** Told each time a retry leaves settlements owed (the gateway logs it). */
  onRetryFailed: (owed: number, err: unknown) => void = () => {};
  /** Told when the journal failed (a write: that settlement is then answered after its commit). */
  onJournalFailed: (err: unknown) => void = () => {};

  /** From now on a settlement is answered once written to `journal`, before its commit. */
  useJournal(journal: SettlementJournal): void {
    this.journal = journal;
  }

  /** Side effects of each committed batch (set by the gateway: alerts). */
  effects: SettlementEffects = () => [];
  /** Told after a commit that enqueued outbox rows (the gateway kicks its worker). */
  onEnqueued: () => void = () => {};
  /** Told when side effects could not be judged or written; the charges themselves stand. */
  onEffectsFailed: (err: unknown) => void = () => {};

  /**
   * Writes one batch durably, in one transaction, with the outbox rows it calls for. On PostgreSQL the
   * batch is one statement, run on its own (no BEGIN/COMMIT round trips while its row locks are held),
   * so its outbox rows (rare: only a crossing writes one) follow in a second transaction, idempotent by
   * their dedupe keys; a crash between the two loses those alerts, never a charge.
   */
  private async commit(items: Settlement[]): Promise<void> {
    if (this.db.dialect === 'postgres') {
      const due = this.effectsOf(items, await applySettlements(this.db, items, 'postgres'));
      if (due.length) await this.enqueueAfterCommit(due);
      return;
    }
    const enqueued = await this.db.tx(async (q) => this.enqueueAll(q, this.effectsOf(items, await applySettlements(q, items, this.db.dialect))));
    if (enqueued) this.onEnqueued();
  }

  /** The batch's side effects; a fault in judging them never holds up the charges. */
  private effectsOf(items: readonly Settlement[], settled: SettledAccounts): OutboxEntry[] {
    try {
      return this.effects({ items, ...settled });
    } catch (err) {
      this.onEffectsFailed(err);
      return [];
    }
  }

  private async enqueueAll(q: Queryable, due: OutboxEntry[]): Promise<number> {
    for (const e of due) await enqueue(q, e);
    return due.length;
  }

  private async enqueueAfterCommit(due: OutboxEntry[]): Promise<void> {
    try {
      await this.db.tx((q) => this.enqueueAll(q, due));
      this.onEnqueued();
    } catch (err) {
      this.onEffectsFailed(err);
    }
  }

  settle(s: Settlement): Promise<void> {
    if (this.journal && this.journalled(s)) {
      this.enqueue({ s, resolve: noop, reject: noop }); // owed if refused: the writer keeps it
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.enqueue({ s, resolve, reject }));
  }

  private journalled(s: Settlement): boolean {
    try {
      this.journal!.append([s]);
      return true;
    } catch (err) {
      this.onJournalFailed(err);
      return false;
    }
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    this.queued++;
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Some settlement is queued or committing. */
  get busy(): boolean {
    return this.done < this.queued;
  }

  /** Resolves once every settlement queued before the call has committed, or is owed. */
  settled(): Promise<void> {
    if (this.done >= this.queued) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo: this.queued, resolve }));
  }

  private countDone(n: number): void {
    this.done += n;
    if (!this.waiters.length) return;
    const ready = this.waiters.filter((w) => w.upTo <= this.done);
    this.waiters = this.waiters.filter((w) => w.upTo > this.done);
    for (const w of ready) w.resolve();
  }

  /** Runs fn after every commit queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.then(fn);
    this.lane = run.catch(() => undefined);
    return run;
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true; // settle() calls meanwhile only queue: this loop takes them
    try {
      while (this.queue.length) {
        const items = this.queue.splice(0, MAX_BATCH);
        const refused = await this.exclusive(() => this.commitAll(items.map((p) => p.s)));
        for (const p of items) {
          if (!refused.has(p.s)) {
            p.resolve();
            continue;
          }
          this.owe(p.s);
          p.reject(new SettlementDeferred(refused.get(p.s)));
        }
        this.countDone(items.length);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One transaction; the reservations go only after it committed. Returns the error if it did not. */
  private async tryCommit(items: Settlement[]): Promise<{ err: unknown } | null> {
    try {
      await this.commit(items);
    } catch (err) {
      return { err };
    }
    this.committed(items);
    return null;
  }

  private committed(items: Settlement[]): void {
    this.afterCommit(items);
    try {
      this.journal?.committed(items);
    } catch (err) {
      // A journal file that could not be deleted only costs a skipped replay line at the next start.
      this.onJournalFailed(err);
    }
  }

  /**
   * Commits one settlement on its own. One that already landed (a COMMIT that succeeded although the
   * driver reported an error, so the retry would hit its unique reference forever) only has its hold
   * dropped: it is applied, and its reservation must go.
   */
  private async commitOne(s: Settlement): Promise<{ err: unknown } | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        const enqueued = await this.db.tx(async (q) => {
          if (!(await alreadySettled(q, s))) return this.enqueueAll(q, this.effectsOf([s], await applySettlements(q, [s], this.db.dialect)));
          if (this.dbHolds) await dropHold(q, s);
          return 0;
        });
        if (enqueued) this.onEnqueued();
        break;
      } catch (err) {
        // A unique violation: the same settlement committed meanwhile; the second look sees it.
        if (attempt === 0 && isUniqueViolation(err)) continue;
        return { err };
      }
    }
    this.committed([s]);
    return null;
  }

  /** Commits the items as one batch, else one by one (so one bad item cannot sink the others); returns the refused ones. */
  private async commitAll(items: Settlement[]): Promise<Map<Settlement, unknown>> {
    const refused = new Map<Settlement, unknown>();
    if (!(await this.tryCommit(items))) {
      this.stats.batches++;
      return refused;
    }
    this.stats.batchesRefused++;
    for (const s of items) {
      const alone = await this.commitOne(s);
      if (alone) refused.set(s, alone.err);
    }
    return refused;
  }

  private owe(s: Settlement): void {
    this.owed.push(s);
    if (!this.retryTimer && !this.retrying && !this.closed) this.retryTimer = setTimeout(() => void this.retryOwed(), this.retryDelay);
  }

  /** Tries every owed settlement once; returns the last refusal if any remain owed. */
  private async commitOwed(): Promise<unknown> {
    const items = this.owed;
    this.owed = [];
    const refused = await this.exclusive(() => this.commitAll(items));
    this.owed.push(...refused.keys());
    return [...refused.values()].at(-1);
  }

  private async retryOwed(): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed || !this.owed.length) return;
    this.retrying = this.commitOwed();
    const err = await this.retrying.finally(() => (this.retrying = undefined));
    if (this.owed.length) {
      this.onRetryFailed(this.owed.length, err);
      this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS);
      if (!this.closed) this.retryTimer = setTimeout(() => void this.retryOwed(), this.retryDelay);
    } else {
      this.retryDelay = FIRST_RETRY_MS;
    }
  }

  /**
   * Commits what is queued, then stops retrying after one last attempt; returns what is still owed
   * (the caller must keep it). Call it once no request can settle any more.
   */
  async close(): Promise<Settlement[]> {
    await this.settled(); // with a journal, answered requests may still be waiting for their commit
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.retrying; // a retry in flight puts what it could not commit back into `owed`
    if (this.owed.length) await this.commitOwed();
    const left = this.owed;
    this.owed = [];
    return left;
  }
}
