// The dashboard's aggregates over one user's usage-log rows: totals, per UTC day, per model, per key,
// and the latest failed requests. Sums are integer points (BIGINT sums read back as numbers).
import type { Queryable } from '../db/index.ts';

const DAY_MS = 86_400_000;
export const MAX_SUMMARY_DAYS = 90;

export interface UsageTotals {
  cost: number;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

export interface UsageSummary {
  /** First instant counted: 00:00 UTC, `days - 1` days before today. */
  from: number;
  to: number;
  totals: UsageTotals;
  /** Every UTC day of the range, oldest first, days without usage included (zeros). */
  byDay: (UsageTotals & { day: string })[];
  /** Highest cost first. */
  byModel: (UsageTotals & { model: string })[];
  /** Highest cost first; keyId null for calls whose key was deleted. */
  byKey: (UsageTotals & { keyId: number | null; keyName: string })[];
  recentErrors: { id: number; createdAt: number; model: string; keyName: string; status: number; error: string | null }[];
}

type SumRow = { cost: unknown; requests: unknown; errors: unknown; prompt: unknown; completion: unknown };
const SUMS = `COALESCE(SUM(cost), 0) AS cost, COUNT(*) AS requests,
  COALESCE(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), 0) AS errors,
  COALESCE(SUM(prompt_tokens), 0) AS prompt, COALESCE(SUM(completion_tokens), 0) AS completion`;

const totalsOf = (r: SumRow | undefined): UsageTotals => ({
  cost: Number(r?.cost ?? 0),
  requests: Number(r?.requests ?? 0),
  errors: Number(r?.errors ?? 0),
  promptTokens: Number(r?.prompt ?? 0),
  completionTokens: Number(r?.completion ?? 0),
});

const byCost = (a: UsageTotals, b: UsageTotals) => b.cost - a.cost || b.requests - a.requests;

/** The summary of the `days` UTC days ending today (`now` injectable for tests). */
export async function usageSummary(q: Queryable, userId: number, days: number, now = Date.now()): Promise<UsageSummary> {
  const today = Math.floor(now / DAY_MS);
  const from = (today - days + 1) * DAY_MS;
  // One index range (usage_logs_user_time) for every query.
  const range = 'WHERE user_id = ? AND created_at >= ? AND created_at <= ?';
  const params = [userId, from, now];
  const [total, dayRows, modelRows, keyRows, errorRows] = await Promise.all([
    q.get<SumRow>(`SELECT ${SUMS} FROM usage_logs ${range}`, params),
    // Integer division of BIGINTs is integer on both databases: the UTC day number.
    q.all<SumRow & { d: unknown }>(`SELECT created_at / ${DAY_MS} AS d, ${SUMS} FROM usage_logs ${range} GROUP BY created_at / ${DAY_MS}`, params),
    q.all<SumRow & { model: string }>(`SELECT model, ${SUMS} FROM usage_logs ${range} GROUP BY model`, params),
    q.all<SumRow & { key_id: unknown; key_name: string }>(`SELECT key_id, MAX(key_name) AS key_name, ${SUMS} FROM usage_logs ${range} GROUP BY key_id`, params),
    q.all<{ id: unknown; created_at: unknown; model: string; key_name: string; status: unknown; error: string | null }>(
      `SELECT id, created_at, model, key_name, status, error FROM usage_logs ${range} AND status >= 400 ORDER BY created_at DESC, id DESC LIMIT 10`,
      params,
    ),
  ]);
  const perDay = new Map(dayRows.map((r) => [Number(r.d), totalsOf(r)]));
  const byDay = Array.from({ length: days }, (_, i) => {
    const d = today - days + 1 + i;
    return { day: new Date(d * DAY_MS).toISOString().slice(0, 10), ...(perDay.get(d) ?? totalsOf(undefined)) };
  });
  return {
    from,
    to: now,
    totals: totalsOf(total),
    byDay,
    byModel: modelRows.map((r) => ({ model: r.model, ...totalsOf(r) })).sort(byCost),
    byKey: keyRows.map((r) => ({ keyId: r.key_id === null ? null : Number(r.key_id), keyName: r.key_name, ...totalsOf(r) })).sort(byCost),
    recentErrors: errorRows.map((r) => ({ id: Number(r.id), createdAt: Number(r.created_at), model: r.model, keyName: r.key_name, status: Number(r.status), error: r.error })),
  };
}
