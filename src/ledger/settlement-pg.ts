import type { Queryable } from '../db/index.ts';
import type { SettledAccounts, Settlement } from './settlement-sql.ts';

// Settling a batch on PostgreSQL in ONE statement, so no row lock is held across round trips: run
// outside a transaction, the row locks last from the statement's first lock to its commit. Several
// instances may settle for the same accounts at once, so rows are locked in one order: users by id,
// then keys by id. Holds and the stale-hold sweeper lock no account row (hold-sql.ts).
//
// - v: the batch, one row per request (arrays, so the statement text is the same for every size);
// - gone: the batch's hold rows, deleted in the same commit that charges (what is held is the sum of
//   the live hold rows: hold-sql.ts), so a concurrent hold sees the hold and the charge together;
// - lock_users: the users' rows locked in id order before `u` updates them (its one-time filter runs
//   lock_users first); lock_keys likewise, after `u`, for `k`;
// - logged: the usage-log rows, each with the balance right after its charge (in the order the
//   requests finished). A user row that is gone makes the statement fail on purpose (division by
//   zero), so no charge can be dropped silently; the writer then settles the batch one by one;
// - the result: what `u` and `k` returned (each user's balance, each key's usage and limit after the
//   batch), so side effects are judged without another query. Data-modifying CTEs run to completion
//   whether or not the result reads them; the locking order is unchanged (u, hence lock_users, first).
const SETTLE_PG = `WITH v AS MATERIALIZED (
    SELECT * FROM unnest(
      ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[],
      ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::int[], ?::int[], ?::int[], ?::text[], ?::bigint[]
    ) WITH ORDINALITY AS v(hold_id, user_id, key_id, cost, counted, request_id, key_name, model, group_name, channel_id, channel_name,
                         prompt_tokens, completion_tokens, cached_tokens, duration_ms, first_token_ms, stream, status, estimated, error, created_at, ord)
  ), gone AS (
    DELETE FROM holds WHERE id IN (SELECT hold_id FROM v) RETURNING id, amount
  ), lock_users AS MATERIALIZED (
    SELECT id FROM users WHERE id IN (SELECT user_id FROM v) ORDER BY id FOR UPDATE
  ), u AS (
    UPDATE users SET balance = users.balance - p.cost, used = users.used + p.cost, request_count = users.request_count + p.n
    FROM (SELECT user_id, SUM(cost) AS cost, SUM(counted) AS n FROM v GROUP BY user_id) p
    WHERE users.id = p.user_id AND (SELECT COUNT(*) FROM lock_users) >= 0
    RETURNING users.id, users.balance
  ), lock_keys AS MATERIALIZED (
    SELECT id FROM api_keys WHERE id IN (SELECT key_id FROM v) AND (SELECT COUNT(*) FROM u) >= 0 ORDER BY id FOR UPDATE
  ), k AS (
    UPDATE api_keys SET used = api_keys.used + p.cost, request_count = api_keys.request_count + p.n, last_used_at = ?
    FROM (SELECT key_id, SUM(cost) AS cost, SUM(counted) AS n FROM v GROUP BY key_id) p
    WHERE api_keys.id = p.key_id AND (SELECT COUNT(*) FROM lock_keys) >= 0
    RETURNING api_keys.id, api_keys.used, api_keys.quota_limit
  ), logged AS (
    INSERT INTO usage_logs (request_id, user_id, key_id, key_name, model, group_name, channel_id, channel_name, prompt_tokens, completion_tokens,
                            cached_tokens, cost, duration_ms, first_token_ms, stream, status, estimated, error, created_at, balance_after)
    SELECT v.request_id, v.user_id, v.key_id, v.key_name, v.model, v.group_name, v.channel_id, v.channel_name, v.prompt_tokens, v.completion_tokens,
           v.cached_tokens, v.cost, v.duration_ms, v.first_token_ms, v.stream, v.status, v.estimated, v.error, v.created_at,
           (COALESCE(u.balance, 0) + SUM(v.cost) OVER (PARTITION BY v.user_id) - SUM(v.cost) OVER (PARTITION BY v.user_id ORDER BY v.ord))
             / (CASE WHEN u.id IS NULL THEN 0 ELSE 1 END)
    FROM v LEFT JOIN u ON u.id = v.user_id
    ORDER BY v.user_id, v.ord
  )
  SELECT 'u' AS account, id, balance AS amount, NULL::bigint AS quota_limit FROM u
  UNION ALL
  SELECT 'k', id, used, quota_limit FROM k`;

// A request counts once it succeeded or was billed (a stream cut after delivering tokens).
const counted = (s: Settlement) => (s.log.status < 400 || s.cost > 0 ? 1 : 0);

/** Settles the batch with one statement (in the caller's transaction, or on its own when given the pool). */
export async function settlePostgres(q: Queryable, items: Settlement[]): Promise<SettledAccounts> {
  const col = <T>(f: (s: Settlement) => T) => items.map(f);
  const rows = await q.all<{ account: 'u' | 'k'; id: number; amount: number; quota_limit: number | null }>(SETTLE_PG, [
    col((s) => s.holdId),
    col((s) => s.userId),
    col((s) => s.keyId),
    col((s) => s.cost),
    col(counted),
    col((s) => s.log.requestId),
    col((s) => s.log.keyName),
    col((s) => s.log.model),
    col((s) => s.log.group),
    col((s) => s.log.channelId),
    col((s) => s.log.channelName),
    col((s) => s.log.promptTokens),
    col((s) => s.log.completionTokens),
    col((s) => s.log.cachedTokens),
    col((s) => s.log.durationMs),
    col((s) => s.log.firstTokenMs),
    col((s) => (s.log.stream ? 1 : 0)),
    col((s) => s.log.status),
    col((s) => (s.log.estimated ? 1 : 0)),
    col((s) => s.log.error),
    col((s) => s.log.createdAt),
    Date.now(),
  ]);
  const settled: SettledAccounts = { balances: new Map(), keys: new Map() };
  for (const r of rows) {
    if (r.account === 'u') settled.balances.set(Number(r.id), Number(r.amount));
    else settled.keys.set(Number(r.id), { used: Number(r.amount), limit: r.quota_limit === null ? null : Number(r.quota_limit) });
  }
  return settled;
}
