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
// Several holds may come in ONE call (place_holds_across, from the queue in hold-batch.ts; place_holds,
// migration 160, did the same for one account): all their locks are taken first, each account's room
// and free balance read once, and the holds decided in the order given, each against what the holds
// placed before it in the call left on its account (running room). That is the same sequence of checks
// as separate calls in that order, with no other hold, debit or settlement able to come between them
// (the locks are held throughout); all placed rows are inserted in one statement and commit together.
// A failed call places none of them. The queue saves round trips only: safety rests on the locks, so
// calls from several instances still interleave correctly, one locked call at a time per account.

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
 * Migration 160 (no longer called; kept for instances still running the code before migration 161):
 * several holds of one account in one call, decided in array order (see the comment at
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

/**
 * Migration 161: the holds waiting in an instance for ANY accounts, in one call (hold-batch.ts), decided
 * in array order, each against its own account's running room, exactly as place_holds decides one
 * account's. Answers one result per hold, as place_hold does.
 *
 * Every lock is taken before anything is read, in ONE global order: every user lock ascending, then
 * every key lock ascending (by lock argument, so two ids sharing a lock take it once). place_hold takes
 * its user's lock then its key's, and a guarded debit its user's only: all follow that order, so no two
 * callers can each hold a lock the other waits for. A settlement takes no advisory lock at all.
 *
 * The rooms are read for all the call's accounts in two statements, into arrays indexed alike
 * (array_position over at most MAX_HOLD_BATCH entries; a key or user not found has no entry and
 * refuses its holds); all placed rows go in in one INSERT.
 */
export const PLACE_HOLDS_ACROSS_FUNCTION = `CREATE FUNCTION place_holds_across(p_amounts bigint[], p_ids text[], p_users bigint[], p_keys bigint[], p_instances text[], p_now bigint)
RETURNS text[] LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  lock_arg int;
  key_ids bigint[];
  key_rooms bigint[]; -- NULL for a key without a limit (and stays NULL: LEAST ignores it)
  user_ids bigint[];
  user_free bigint[];
  results text[] := '{}';
  placed int[] := '{}';
  ki int;
  ui int;
  amt bigint;
BEGIN
  FOR lock_arg IN SELECT DISTINCT ${lockArg('u')} FROM unnest(p_users) AS t(u) ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(${USER_NS}, lock_arg);
  END LOOP;
  FOR lock_arg IN SELECT DISTINCT ${lockArg('k')} FROM unnest(p_keys) AS t(k) ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(${KEY_NS}, lock_arg);
  END LOOP;
  SELECT array_agg(k.id), array_agg(k.quota_limit - k.used - COALESCE(h.held, 0)) INTO key_ids, key_rooms
    FROM api_keys k
    LEFT JOIN (SELECT key_id, SUM(amount) AS held FROM holds WHERE key_id = ANY (p_keys) GROUP BY key_id) h ON h.key_id = k.id
    WHERE k.id = ANY (p_keys);
  SELECT array_agg(u.id), array_agg(u.balance - COALESCE(h.held, 0)) INTO user_ids, user_free
    FROM users u
    LEFT JOIN (SELECT user_id, SUM(amount) AS held FROM holds WHERE user_id = ANY (p_users) GROUP BY user_id) h ON h.user_id = u.id
    WHERE u.id = ANY (p_users);
  FOR i IN 1 .. COALESCE(array_length(p_amounts, 1), 0) LOOP
    amt := p_amounts[i];
    ki := array_position(key_ids, p_keys[i]);
    ui := array_position(user_ids, p_users[i]);
    IF ki IS NULL OR key_rooms[ki] < amt THEN
      results := results || 'key'::text;
    ELSIF ui IS NULL OR user_free[ui] < amt THEN
      results := results || 'balance'::text;
    ELSE
      key_rooms[ki] := key_rooms[ki] - amt;
      user_free[ui] := user_free[ui] - amt;
      placed := placed || i;
      results := results || ('ok:' || LEAST(user_free[ui], key_rooms[ki])::text);
    END IF;
  END LOOP;
  IF array_length(placed, 1) > 0 THEN
    INSERT INTO holds (id, user_id, key_id, amount, instance_id, created_at)
      SELECT p_ids[t.n], p_users[t.n], p_keys[t.n], p_amounts[t.n], p_instances[t.n], p_now FROM unnest(placed) AS t(n);
  END IF;
  RETURN results;
END
$fn$`;

export const PLACE_HOLD_PG = 'SELECT place_hold($1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, $6::bigint) AS result';
export const PLACE_HOLDS_ACROSS_PG =
  'SELECT place_holds_across($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint) AS results';

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
