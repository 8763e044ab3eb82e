import type { Queryable } from '../db/index.ts';
import { PLACE_HOLD_PG, PLACE_HOLDS_PG } from './hold-sql.ts';

// PostgreSQL holds of one account are serialised by its advisory locks (hold-sql.ts): sent one call
// each, N concurrent holds of one account cost N round trips and N lock hand-offs one after the other.
// So the instance keeps at most one call in flight per account; the holds that arrive meanwhile wait
// here, in arrival order, and go together in ONE place_holds call when it returns, which decides them in
// that order. A hold with nothing in flight for its account goes alone, through place_hold as before.

/** The fields of a hold request this module needs (holds.ts HoldRequest). */
export interface BatchedHold {
  holdId: string;
  userId: number;
  keyId: number;
  amount: number;
  instanceId: string;
}

/** The raw answer of place_hold / place_holds for one hold: 'ok:<room>', 'key' or 'balance'. */
export type RawHoldResult = string;

/** Bounds one call's arrays (and the time the account's locks are held by it). */
export const MAX_HOLD_BATCH = 256;

interface Waiting {
  hold: BatchedHold;
  resolve(result: RawHoldResult): void;
  reject(err: unknown): void;
}

export class HoldBatcher {
  /** Accounts with a call in flight → the holds that arrived since, in arrival order. */
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(private readonly q: Queryable) {}

  place(hold: BatchedHold): Promise<RawHoldResult> {
    // One call carries one instance id and one user / key pair.
    const account = `${hold.userId}:${hold.keyId}:${hold.instanceId}`;
    const queue = this.waiting.get(account);
    if (queue) return new Promise((resolve, reject) => queue.push({ hold, resolve, reject }));
    this.waiting.set(account, []);
    const call = this.one(hold);
    const next = () => this.next(account);
    call.then(next, next); // the caller gets `call` itself, rejection included
    return call;
  }

  /** The call in flight for `account` ended: send what queued meanwhile, or forget the account. */
  private next(account: string): void {
    const queue = this.waiting.get(account)!;
    if (queue.length === 0) {
      this.waiting.delete(account);
      return;
    }
    const batch = queue.splice(0, MAX_HOLD_BATCH);
    const call = batch.length === 1 ? this.one(batch[0]!.hold).then((r) => [r]) : this.many(batch.map((w) => w.hold));
    // Every outcome ends in next(): a failed call rejects its own holds only, the queue goes on.
    const next = () => this.next(account);
    call
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .then(next, next);
  }

  private async one(h: BatchedHold): Promise<RawHoldResult> {
    const row = await this.q.get<{ result: string }>(PLACE_HOLD_PG, [h.amount, h.userId, h.keyId, h.holdId, h.instanceId, Date.now()]);
    return row!.result;
  }

  private async many(holds: BatchedHold[]): Promise<RawHoldResult[]> {
    const h = holds[0]!;
    const row = await this.q.get<{ results: string[] }>(PLACE_HOLDS_PG, [
      holds.map((x) => x.amount),
      holds.map((x) => x.holdId),
      h.userId,
      h.keyId,
      h.instanceId,
      Date.now(),
    ]);
    const results = row?.results;
    if (!Array.isArray(results) || results.length !== holds.length) throw new Error(`place_holds answered ${results?.length ?? 'nothing'} results for ${holds.length} holds`);
    return results;
  }
}
