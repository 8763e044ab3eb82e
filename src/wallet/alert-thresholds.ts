// Each user's balance-alert threshold, kept in memory so the relay settlement can tell a crossing
// from the balances it already has, with no query (only a crossing, which is rare, writes an outbox
// row). Loaded at start; a PUT /api/me/notifications updates it here and, through the bus (topic
// "alerts", payload the user id), on every other instance. A change is seen by other instances once
// the bus message arrives: a crossing in that moment is judged by the old threshold.
import type { Database } from '../db/index.ts';

export class AlertThresholds {
  private byUser = new Map<number, number>();

  constructor(private db: Database) {}

  /** Users without settings, or with threshold 0, have no entry. */
  get(userId: number): number | undefined {
    return this.byUser.get(userId);
  }

  async reloadAll(): Promise<void> {
    const rows = await this.db.all<{ user_id: number; threshold_quota: number }>('SELECT user_id, threshold_quota FROM notification_settings WHERE threshold_quota > 0');
    this.byUser = new Map(rows.map((r) => [Number(r.user_id), Number(r.threshold_quota)]));
  }

  async reloadUser(userId: number): Promise<void> {
    const row = await this.db.get<{ threshold_quota: number }>('SELECT threshold_quota FROM notification_settings WHERE user_id = ?', [userId]);
    this.set(userId, row ? Number(row.threshold_quota) : null);
  }

  set(userId: number, threshold: number | null): void {
    if (threshold !== null && threshold > 0) this.byUser.set(userId, threshold);
    else this.byUser.delete(userId);
  }
}

// One book per database handle, found by code that has the handle but not the gateway (the settlement).
const books = new WeakMap<Database, AlertThresholds>();

export function registerAlertThresholds(db: Database, book: AlertThresholds): void {
  books.set(db, book);
}

/** The thresholds book of the gateway using this database, if one registered it. */
export function alertThresholds(db: Database): AlertThresholds | undefined {
  return books.get(db);
}
