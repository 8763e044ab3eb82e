import type { Queryable } from '../db/index.ts';
import { PLACE_HOLD_PG, PLACE_HOLDS_ACROSS_PG } from './hold-sql.ts';

// PostgreSQL holds are serialised per account by advisory locks (hold-sql.ts), and each call costs a
// round trip, a function call and a commit. So an instance keeps few hold calls in flight: a hold that
// arrives while they are all busy, or while its user has one in flight, waits here; when a call
// returns, the waiting holds (any accounts, up to MAX_HOLD_BATCH) go together in ONE place_holds_across
// call, which decides them in arrival order. A hold that finds a free slot and its user idle goes
// alone, through place_hold, at once.
//
// One call in flight per user keeps a user's holds decided in their arrival order (a later hold never
// overtakes an earlier one in another call). The calls in flight bound the database connections holds
// take, and make 100 users' holds one call instead of 100 (issue 6: 100 users at 100 connections).

/** The fields of a hold request this module needs (holds.ts HoldRequest). */
export interface BatchedHold {
  holdId: string;
  userId: number;
  keyId: number;
  amount: number;
  instanceId: string;
}

/** The raw answer of place_hold / place_holds_across for one hold: 'ok:<room>', 'key' or 'balance'. */
export type RawHoldResult = string;

/** Bounds one call's arrays (and the time its accounts' locks are held by it). */
export const MAX_HOLD_BATCH = 256;

/**
 * Hold calls one instance keeps in flight. More than one, so a call waiting on one user's lock (a
 * guarded debit holds it until its commit) does not stall every other account's holds.
 */
export const HOLD_CALLS_IN_FLIGHT = 2;

interface Waiting {
  hold: BatchedHold;
  resolve(result: RawHoldResult): void;
  reject(err: unknown): void;
}

export class HoldBatcher {
  /** Holds waiting for a call, in arrival order. */
  private waiting: Waiting[] = [];
  /** Users with a hold in a call in flight. */
  private readonly busy = new Set<number>();
  private inFlight = 0;

  constructor(
    private readonly q: Queryable,
    private readonly maxCalls = HOLD_CALLS_IN_FLIGHT,
  ) {}

  place(hold: BatchedHold): Promise<RawHoldResult> {
    if (this.inFlight >= this.maxCalls || this.busy.has(hold.userId)) {
      return new Promise((resolve, reject) => this.waiting.push({ hold, resolve, reject }));
    }
    this.inFlight++;
    this.busy.add(hold.userId);
    const call = this.one(hold);
    const done = () => this.done([hold]);
    call.then(done, done); // the caller gets `call` itself, rejection included
    return call;
  }

  /** A call ended: its users are idle again; send what can go now. */
  private done(holds: BatchedHold[]): void {
    this.inFlight--;
    for (const h of holds) this.busy.delete(h.userId);
    while (this.inFlight < this.maxCalls && this.waiting.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // every waiting hold's user has a call in flight
      this.send(batch);
    }
  }

  /** Takes the waiting holds of idle users, in arrival order, up to the cap; the others keep their places. */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    const kept: Waiting[] = [];
    for (const w of this.waiting) {
      if (batch.length < MAX_HOLD_BATCH && !this.busy.has(w.hold.userId)) batch.push(w);
      else kept.push(w);
    }
    this.waiting = kept;
    return batch;
  }

  private send(batch: Waiting[]): void {
    this.inFlight++;
    for (const w of batch) this.busy.add(w.hold.userId);
    const holds = batch.map((w) => w.hold);
    const call = holds.length === 1 ? this.one(holds[0]!).then((r) => [r]) : this.many(holds);
    // Every outcome ends in done(): a failed call rejects its own holds only, the queue goes on.
    const done = () => this.done(holds);
    call
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .then(done, done);
  }

  private async one(h: BatchedHold): Promise<RawHoldResult> {
    const row = await this.q.get<{ result: string }>(PLACE_HOLD_PG, [h.amount, h.userId, h.keyId, h.holdId, h.instanceId, Date.now()]);
    return row!.result;
  }

  private async many(holds: BatchedHold[]): Promise<RawHoldResult[]> {
    const row = await this.q.get<{ results: string[] }>(PLACE_HOLDS_ACROSS_PG, [
      holds.map((h) => h.amount),
      holds.map((h) => h.holdId),
      holds.map((h) => h.userId),
      holds.map((h) => h.keyId),
      holds.map((h) => h.instanceId),
      Date.now(),
    ]);
    const results = row?.results;
    if (!Array.isArray(results) || results.length !== holds.length) throw new Error(`place_holds_across answered ${results?.length ?? 'nothing'} results for ${holds.length} holds`);
    return results;
  }
}
