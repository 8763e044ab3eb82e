import type { Queryable } from '../db/index.ts';
import { money } from '../lib/money.ts';
import type { EntryKind } from './entries.ts';

// A user's wallet history: ledger entries (trial, adjustments, …) one by one, and usage as one line per
// UTC day (the usage-log rows are the record of each charge; a day's line sums them).

const DAY_MS = 86_400_000;

export interface HistoryItem {
  /** The ledger entry's id; null for a day of usage. */
  id: number | null;
  kind: EntryKind;
  amount: number;
  /** The balance after the entry, or after the day's last charge. */
  balanceAfter: number | null;
  reference: string;
  note: string | null;
  createdAt: number;
  /** Usage days only: the UTC date and how many charged requests it sums. */
  day?: string;
  requests?: number;
}

/** Filters of GET /api/wallet/ledger: one kind ('usage' = the usage days), and a time range [from, to). */
export interface HistoryFilter {
  kind?: EntryKind;
  from?: number;
  to?: number;
}

// Each filter is a condition on created_at / kind with its parameters; a usage day sums only the
// charges inside the range.
function historySql(f: HistoryFilter, userId: number) {
  const time = (col: string) => `${f.from !== undefined ? ` AND ${col} >= ?` : ''}${f.to !== undefined ? ` AND ${col} < ?` : ''}`;
  const timeParams = [...(f.from !== undefined ? [f.from] : []), ...(f.to !== undefined ? [f.to] : [])];
  const entries = f.kind !== 'usage';
  const usage = f.kind === undefined || f.kind === 'usage';
  const entryWhere = `user_id = ?${f.kind ? ' AND kind = ?' : ''}${time('created_at')}`;
  const entryParams = [userId, ...(f.kind ? [f.kind] : []), ...timeParams];
  const usageWhere = `user_id = ? AND cost > 0${time('created_at')}`;
  const usageParams = [userId, ...timeParams];
  const parts: string[] = [];
  const params: unknown[] = [];
  if (entries) {
    parts.push(`SELECT id, kind, amount, balance_after, reference, note, created_at, NULL AS day, NULL AS requests, id AS sort_id
    FROM ledger_entries WHERE ${entryWhere}`);
    params.push(...entryParams);
  }
  if (usage) {
    parts.push(`SELECT NULL AS id, 'usage' AS kind, -d.total AS amount, l.balance_after, NULL AS reference, NULL AS note, d.last_at AS created_at, d.day, d.n AS requests, d.last_id AS sort_id
    FROM (SELECT created_at / ${DAY_MS} AS day, SUM(cost) AS total, COUNT(*) AS n, MAX(id) AS last_id, MAX(created_at) AS last_at
          FROM usage_logs WHERE ${usageWhere} GROUP BY created_at / ${DAY_MS}) d
    JOIN usage_logs l ON l.id = d.last_id`);
    params.push(...usageParams);
  }
  const count = [
    entries ? `(SELECT COUNT(*) FROM ledger_entries WHERE ${entryWhere})` : '0',
    usage ? `(SELECT COUNT(DISTINCT created_at / ${DAY_MS}) FROM usage_logs WHERE ${usageWhere})` : '0',
  ].join(' + ');
  return {
    list: `SELECT id, kind, amount, balance_after, reference, note, created_at, day, requests FROM (
    ${parts.join('\n    UNION ALL\n    ')}
  ) h ORDER BY created_at DESC, sort_id DESC LIMIT ? OFFSET ?`,
    params,
    count: `SELECT ${count} AS n`,
    countParams: [...(entries ? entryParams : []), ...(usage ? usageParams : [])],
  };
}

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

function toItem(r: Record<string, any>): HistoryItem {
  if (r.id === null) {
    const day = isoDay(Number(r.day));
    const requests = Number(r.requests);
    return {
      id: null,
      kind: 'usage',
      amount: Number(r.amount),
      balanceAfter: r.balance_after === null ? null : Number(r.balance_after),
      reference: `usage:${day}`,
      note: `${requests} request${requests === 1 ? '' : 's'}`,
      createdAt: Number(r.created_at),
      day,
      requests,
    };
  }
  return {
    id: Number(r.id),
    kind: r.kind,
    amount: Number(r.amount),
    balanceAfter: Number(r.balance_after),
    reference: r.reference,
    note: r.note ?? null,
    createdAt: Number(r.created_at),
  };
}

export async function listHistory(q: Queryable, userId: number, page: number, pageSize: number, filter: HistoryFilter = {}): Promise<{ items: HistoryItem[]; total: number }> {
  const sql = historySql(filter, userId);
  const [rows, total] = await Promise.all([
    q.all(sql.list, [...sql.params, pageSize, (page - 1) * pageSize]),
    q.get<{ n: number }>(sql.count, sql.countParams),
  ]);
  return { items: rows.map(toItem), total: Number(total?.n ?? 0) };
}

export function publicHistoryItem(h: HistoryItem) {
  return {
    id: h.id,
    kind: h.kind,
    amount: money(h.amount),
    balanceAfter: h.balanceAfter === null ? null : money(h.balanceAfter),
    reference: h.reference,
    createdAt: new Date(h.createdAt).toISOString(),
    note: h.note,
    ...(h.day !== undefined ? { day: h.day, requests: h.requests } : {}),
  };
}
