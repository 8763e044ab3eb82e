import type { Queryable } from '../db/index.ts';

// PostgreSQL holds without row locks. What an account has on hold is the sum of its live hold rows;
// no `held` column exists, so neither a hold nor a settlement does arithmetic on a held counter.
//
// Holds for one account are serialised by transaction-scoped advisory locks (never by the users /
// api_keys rows, which a settlement keeps locked until its synchronous commit has reached the disk):
// the user's lock, then the key's, always in that order. Each check then reads committed data only:
//
// - the next hold for the account starts reading after the previous one committed (an advisory
//   xact lock is released only after its transaction is visible), so two holds cannot both take the
//   last points;
// - a settlement deletes its hold rows and lowers the balance (adds to the key's `used`) in ONE
//   commit, so a check sees either (old balance, hold present) or (new balance, hold gone): the
//   available amount moves by hold − cost, never more than the documented overrun (cost > hold);
// - a guarded debit takes the same user lock before its conditional update (entries.ts).
//
// The checks run inside a VOLATILE PL/pgSQL function: there each statement takes a fresh snapshot,
// AFTER the lock was granted (a single SQL statement would read with the snapshot it took before
// waiting for the lock, and could miss the hold committed by the transaction it waited for). One
// call, one round trip: no lock is held across the network.
//
// Several holds of one account may come in ONE call (place_holds, from the per-account queue in
// hold-batch.ts): the locks are taken once, the key's room and the free balance read once, and the
// holds decided in the order given, each against what the holds placed before it in the call left
// (running room). That is the same sequence of checks as separate calls in that order, with no other
// hold, debit or settlement able to come between them (the locks are held throughout); all placed rows
// are inserted in one statement and commit together. A failed call places none of them. The queue
// saves round trips only: safety rests on the locks, so calls from several instances (or for two keys
// of one user) still interleave correctly, one locked call at a time.

/** Advisory lock namespaces (classid of the two-int form, which never meets the one-bigint locks). */
const USER_NS = 0x686c6475; // 'hldu'
const KEY_NS = 0x686c646b; // 'hldk'
// Ids past 2^31 share a lock with a smaller id: that only serialises two accounts, never frees one.
const lockArg = (idSql: string) => `(${idSql} & 2147483647)::int`;

export const PLACE_HOLD_FUNCTION = `CREATE FUNCTION place_hold(p_amount bigint, p_user bigint, p_key bigint, p_id text, p_instance text, p_now bigint)
RETURNS text LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  key_found boolean;
  key_room bigint;
  free_balance bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${USER_NS}, ${lockArg('p_user')});
  PERFORM pg_advisory_xact_lock(${KEY_NS}, ${lockArg('p_key')});
  SELECT true, k.quota_limit - k.used - COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.key_id = p_key), 0)
    INTO key_found, key_room FROM api_keys k WHERE k.id = p_key;
  IF key_found IS NULL OR key_room < p_amount THEN RETURN 'key'; END IF;
  SELECT u.balance - COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.user_id = p_user), 0)
    INTO free_balance FROM users u WHERE u.id = p_user;
  IF free_balance IS NULL OR free_balance < p_amount THEN RETURN 'balance'; END IF;
  INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at) VALUES (p_id, p_user, p_key, p_amount, p_instance, p_now);
  RETURN 'ok';
END
$fn$`;

/**
 * place_hold as migration 151 leaves it: the same checks; a placed hold answers `ok:<room>`, the points
 * still available after it (the free balance, or the key's room when that is smaller), so a stream can
 * be metered against hold + room in memory (src/relay/spend-ceiling.ts) without another query.
 */
export const PLACE_HOLD_FUNCTION_WITH_ROOM = PLACE_HOLD_FUNCTION.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION').replace(
  "RETURN 'ok';",
  "RETURN 'ok:' || LEAST(free_balance - p_amount, key_room - p_amount)::text;",
);

/**
 * Migration 160: several holds of one account in one call, decided in array order (see the comment at
 * the top). Answers one result per hold, in that order, as place_hold does: `ok:<room>` (the points
 * still available after this hold and the ones placed before it in the call), `key` or `balance`.
 */
export const PLACE_HOLDS_FUNCTION = `CREATE FUNCTION place_holds(p_amounts bigint[], p_ids text[], p_user bigint, p_key bigint, p_instance text, p_now bigint)
RETURNS text[] LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  key_found boolean;
  key_room bigint; -- NULL for a key without a limit (and stays NULL: LEAST ignores it)
  free_balance bigint;
  results text[] := '{}';
  placed_ids text[] := '{}';
  placed_amounts bigint[] := '{}';
  amt bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${USER_NS}, ${lockArg('p_user')});
  PERFORM pg_advisory_xact_lock(${KEY_NS}, ${lockArg('p_key')});
  SELECT true, k.quota_limit - k.used - COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.key_id = p_key), 0)
    INTO key_found, key_room FROM api_keys k WHERE k.id = p_key;
  SELECT u.balance - COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.user_id = p_user), 0)
    INTO free_balance FROM users u WHERE u.id = p_user;
  FOR i IN 1 .. COALESCE(array_length(p_amounts, 1), 0) LOOP
    amt := p_amounts[i];
    -- A missing key or user refuses every hold, as place_hold does.
    IF key_found IS NULL OR key_room < amt THEN
      results := results || 'key'::text;
    ELSIF free_balance IS NULL OR free_balance < amt THEN
      results := results || 'balance'::text;
    ELSE
      key_room := key_room - amt;
      free_balance := free_balance - amt;
      placed_ids := placed_ids || p_ids[i];
      placed_amounts := placed_amounts || amt;
      results := results || ('ok:' || LEAST(free_balance, key_room)::text);
    END IF;
  END LOOP;
  IF array_length(placed_ids, 1) > 0 THEN
    INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at)
      SELECT t.id, p_user, p_key, t.amount, p_instance, p_now FROM unnest(placed_ids, placed_amounts) AS t(id, amount);
  END IF;
  RETURN results;
END
$fn$`;

export const PLACE_HOLD_PG = 'SELECT place_hold($1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, $6::bigint) AS result';
export const PLACE_HOLDS_PG = 'SELECT place_holds($1::bigint[], $2::text[], $3::bigint, $4::bigint, $5::text, $6::bigint) AS results';

/**
 * PostgreSQL, inside a transaction: waits for the user's hold lock, so the statements after it see
 * every hold placed before and none is placed until this transaction ends (a guarded debit).
 */
export async function lockHoldsOf(q: Queryable, userId: number): Promise<void> {
  await q.get(`SELECT pg_advisory_xact_lock(${USER_NS}, ${lockArg('CAST(? AS bigint)')}) AS locked`, [userId]);
}

/** SQL for what a user has on hold in hold rows (`idSql` names the user id). */
export const heldByUserSql = (idSql: string) => `(SELECT COALESCE(SUM(h.amount), 0) FROM holds h WHERE h.user_id = ${idSql})`;
/** SQL for what a key has on hold in hold rows (`idSql` names the key id). */
export const heldByKeySql = (idSql: string) => `(SELECT COALESCE(SUM(h.amount), 0) FROM holds h WHERE h.key_id = ${idSql})`;
