import type { Queryable } from '../db/index.ts';
import { money } from '../lib/money.ts';

export interface UsageLogRow {
  requestId: string;
  userId: number;
  keyId: number;
  keyName: string;
  model: string;
  group: string;
  channelId: number | null;
  channelName: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cost: number;
  durationMs: number;
  firstTokenMs: number | null;
  stream: boolean;
  status: number;
  estimated: boolean;
  error: string | null;
  createdAt: number;
}

export const USAGE_LOG_COLUMNS = [
  'request_id', 'user_id', 'key_id', 'key_name', 'model', 'group_name', 'channel_id', 'channel_name', 'prompt_tokens',
  'completion_tokens', 'cached_tokens', 'cost', 'duration_ms', 'first_token_ms', 'stream', 'status', 'estimated', 'error', 'created_at',
  'balance_after',
] as const;

/**
 * The row's values in USAGE_LOG_COLUMNS order. The row is the ledger's record of the request's charge
 * (`cost`, and the user's balance right after it), written in the settlement's transaction.
 */
export function usageLogValues(r: UsageLogRow, balanceAfter: number): unknown[] {
  return [
    r.requestId, r.userId, r.keyId, r.keyName, r.model, r.group, r.channelId, r.channelName, r.promptTokens,
    r.completionTokens, r.cachedTokens, r.cost, r.durationMs, r.firstTokenMs, r.stream ? 1 : 0, r.status, r.estimated ? 1 : 0, r.error, r.createdAt,
    balanceAfter,
  ];
}

export interface LogFilter {
  userId?: number;
  from?: number;
  to?: number;
  keyId?: number;
  model?: string;
}

function where(f: LogFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    parts.push(cond);
    params.push(v);
  };
  if (f.userId !== undefined) add('user_id = ?', f.userId);
  if (f.from !== undefined) add('created_at >= ?', f.from);
  if (f.to !== undefined) add('created_at <= ?', f.to);
  if (f.keyId !== undefined) add('key_id = ?', f.keyId);
  if (f.model !== undefined) add('model = ?', f.model);
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export async function listUsageLogs(q: Queryable, f: LogFilter, page: number, pageSize: number) {
  const w = where(f);
  const [rows, total] = await Promise.all([
    q.all(`SELECT * FROM usage_logs ${w.sql} ORDER BY id DESC LIMIT ? OFFSET ?`, [...w.params, pageSize, (page - 1) * pageSize]),
    q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM usage_logs ${w.sql}`, w.params),
  ]);
  return {
    total: Number(total?.n ?? 0),
    items: rows.map((r) => ({
      id: Number(r.id),
      requestId: r.request_id,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      keyId: r.key_id === null ? null : Number(r.key_id),
      keyName: r.key_name,
      model: r.model,
      group: r.group_name,
      channelId: r.channel_id === null ? null : Number(r.channel_id),
      channelName: r.channel_name,
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      cachedTokens: Number(r.cached_tokens),
      cost: money(Number(r.cost)),
      durationMs: Number(r.duration_ms),
      firstTokenMs: r.first_token_ms === null ? null : Number(r.first_token_ms),
      stream: Number(r.stream) === 1,
      status: Number(r.status),
      estimated: Number(r.estimated) === 1,
      error: r.error,
    })),
  };
}
