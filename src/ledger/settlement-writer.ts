import type { Database } from '../db/index.ts';
import { applySettlements, type Settlement } from './settlement-sql.ts';

export type { Settlement };

interface Pending {
  s: Settlement;
  resolve: () => void;
  reject: (err: unknown) => void;
}

// Bounds one transaction (and the hold-id list PostgreSQL deletes in one statement).
const MAX_BATCH = 500;

/**
 * Group commit for settlements. Requests finishing at the same moment are settled in one transaction:
 * one conditional-free update per user and per key (sums), one multi-row insert of ledger entries and
 * one of usage-log rows. Each request's promise resolves only after that commit, so a caller never
 * sees an answer whose charge is not durable. If a batch fails, its requests are retried one by one so
 * a single bad item cannot sink the others.
 */
export class SettlementWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private db: Database,
    private dbHolds: boolean,
    private afterCommit: (items: Settlement[]) => void,
  ) {}

  /** Writes one batch durably, in one transaction. */
  private commit(items: Settlement[]): Promise<void> {
    return this.db.tx((q) => applySettlements(q, items, this.dbHolds));
  }

  settle(s: Settlement): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ s, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    while (this.queue.length) {
      const items = this.queue.splice(0, MAX_BATCH);
      try {
        await this.commit(items.map((p) => p.s));
        for (const p of items) p.resolve();
      } catch {
        for (const p of items) {
          try {
            await this.commit([p.s]);
            p.resolve();
          } catch (err) {
            p.reject(err);
          }
        }
      } finally {
        // Reservations go only after the charge is committed (or failed, when the hold is moot).
        this.afterCommit(items.map((p) => p.s));
      }
    }
  }
}
