import type { Database, Statement } from '../db/index.ts';
import { USAGE_LOG_COLUMNS, usageLogValues, type UsageLogRow } from '../logs/usage-log.ts';

export interface Settlement {
  holdId: string;
  userId: number;
  keyId: number;
  /** Real cost in points. May exceed the hold: the request was served, so it is charged in full. */
  cost: number;
  log: UsageLogRow;
}

interface Pending {
  s: Settlement;
  resolve: () => void;
  reject: (err: unknown) => void;
}

// 19 log columns × 500 rows stays under both databases' bound-parameter limits.
const MAX_BATCH = 500;

const sum = (xs: Pending[], f: (s: Settlement) => number) => xs.reduce((a, p) => a + f(p.s), 0);
// A request counts once it succeeded or was billed (a stream cut after delivering tokens).
const counted = (s: Settlement) => (s.log.status < 400 || s.cost > 0 ? 1 : 0);

function groupBy<K>(items: Pending[], key: (s: Settlement) => K): Map<K, Pending[]> {
  const out = new Map<K, Pending[]>();
  for (const p of items) {
    const k = key(p.s);
    const list = out.get(k);
    if (list) list.push(p);
    else out.set(k, [p]);
  }
  return out;
}

function placeholders(rows: number, cols: number): string {
  const row = `(${new Array(cols).fill('?').join(', ')})`;
  return new Array(rows).fill(row).join(', ');
}

/**
 * Group commit for settlements. Requests finishing at the same moment are settled in one transaction:
 * per request a balance update and its ledger entry, one update per key (sums) and one multi-row insert
 * of usage-log rows. Each request's promise resolves only after that commit, so a caller never
 * sees an answer whose charge is not durable. If a batch fails, its requests are retried one by one so
 * a single bad item cannot sink the others.
 */
export class SettlementWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private db: Database,
    private dbHolds: boolean,
    private afterCommit: (holdIds: string[]) => void,
  ) {}

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
        await this.db.batch(this.statements(items));
        for (const p of items) p.resolve();
      } catch {
        for (const p of items) {
          try {
            await this.db.batch(this.statements([p]));
            p.resolve();
          } catch (err) {
            p.reject(err);
          }
        }
      } finally {
        // Reservations go only after the charge is committed (or failed, when the hold is moot).
        this.afterCommit(items.map((p) => p.s.holdId));
      }
    }
  }

  /**
   * The batch as fixed statements, so the database runs it in one round trip. Each request's user
   * update is followed by its ledger entry, whose balance_after is read from the row just updated.
   */
  private statements(items: Pending[]): Statement[] {
    const now = Date.now();
    const out: Statement[] = [];
    const holdOf = 'COALESCE((SELECT amount FROM holds WHERE id = ?), 0)';
    for (const { s } of items) {
      out.push(
        this.dbHolds
          ? {
              sql: `UPDATE users SET balance = balance - ?, held = held - ${holdOf}, used = used + ?, request_count = request_count + ? WHERE id = ?`,
              params: [s.cost, s.holdId, s.cost, counted(s), s.userId],
            }
          : { sql: 'UPDATE users SET balance = balance - ?, used = used + ?, request_count = request_count + ? WHERE id = ?', params: [s.cost, s.cost, counted(s), s.userId] },
      );
      if (s.cost > 0) {
        out.push({
          sql: `INSERT INTO ledger_entries (user_id, kind, amount, balance_after, reference, note, created_at)
                SELECT id, 'usage', ?, balance, ?, ?, ? FROM users WHERE id = ?`,
          params: [-s.cost, `req:${s.holdId}`, s.log.model, now, s.userId],
        });
      }
    }
    for (const [keyId, mine] of groupBy(items, (s) => s.keyId)) {
      const ids = mine.map((p) => p.s.holdId);
      const params = [sum(mine, (s) => s.cost), sum(mine, counted), now];
      out.push(
        this.dbHolds
          ? {
              sql: `UPDATE api_keys SET used = used + ?, request_count = request_count + ?, last_used_at = ?,
                      held = held - COALESCE((SELECT SUM(amount) FROM holds WHERE id IN (${ids.map(() => '?').join(', ')})), 0) WHERE id = ?`,
              params: [...params, ...ids, keyId],
            }
          : { sql: 'UPDATE api_keys SET used = used + ?, request_count = request_count + ?, last_used_at = ? WHERE id = ?', params: [...params, keyId] },
      );
    }
    out.push({
      sql: `INSERT INTO usage_logs (${USAGE_LOG_COLUMNS.join(', ')}) VALUES ${placeholders(items.length, USAGE_LOG_COLUMNS.length)}`,
      params: items.flatMap((p) => usageLogValues(p.s.log)),
    });
    if (this.dbHolds) {
      out.push({ sql: `DELETE FROM holds WHERE id IN (${items.map(() => '?').join(', ')})`, params: items.map((p) => p.s.holdId) });
    }
    return out;
  }
}
