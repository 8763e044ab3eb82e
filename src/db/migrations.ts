import type { Database, Dialect } from './types.ts';
import { PLACE_HOLD_FUNCTION } from '../ledger/hold-sql.ts';

interface Migration {
  id: number;
  name: string;
  up(d: Dialect): string[];
}

const pk = (d: Dialect) => (d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY');

// One migration set for both dialects: timestamps are epoch milliseconds, booleans 0/1, JSON as text.
const migrations: Migration[] = [
  {
    id: 1,
    name: 'foundation',
    up: (d) => [
      `CREATE TABLE users (
        id ${pk(d)},
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        email TEXT,
        role TEXT NOT NULL DEFAULT 'user',
        group_name TEXT NOT NULL DEFAULT 'default',
        enabled INTEGER NOT NULL DEFAULT 1,
        balance BIGINT NOT NULL DEFAULT 0,
        held BIGINT NOT NULL DEFAULT 0,
        used BIGINT NOT NULL DEFAULT 0,
        request_count BIGINT NOT NULL DEFAULT 0,
        aff_code TEXT NOT NULL UNIQUE,
        inviter_id BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE api_keys (
        id ${pk(d)},
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        key_hint TEXT NOT NULL,
        group_name TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        expires_at BIGINT,
        quota_limit BIGINT,
        used BIGINT NOT NULL DEFAULT 0,
        held BIGINT NOT NULL DEFAULT 0,
        request_count BIGINT NOT NULL DEFAULT 0,
        models TEXT NOT NULL DEFAULT '[]',
        allow_ips TEXT NOT NULL DEFAULT '[]',
        created_at BIGINT NOT NULL,
        last_used_at BIGINT
      )`,
      `CREATE INDEX api_keys_user ON api_keys(user_id)`,
      `CREATE TABLE ledger_entries (
        id ${pk(d)},
        user_id BIGINT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        amount BIGINT NOT NULL,
        balance_after BIGINT NOT NULL,
        reference TEXT NOT NULL UNIQUE,
        note TEXT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX ledger_user ON ledger_entries(user_id, id)`,
      `CREATE TABLE holds (
        id TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL,
        key_id BIGINT,
        amount BIGINT NOT NULL,
        instance_id TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX holds_instance ON holds(instance_id)`,
      `CREATE TABLE instances (id TEXT PRIMARY KEY, heartbeat_at BIGINT NOT NULL)`,
      `CREATE TABLE groups (
        name TEXT PRIMARY KEY,
        multiplier_micros BIGINT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        selectable INTEGER NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE prices (
        model TEXT PRIMARY KEY,
        input_micros BIGINT NOT NULL DEFAULT 0,
        output_micros BIGINT NOT NULL DEFAULT 0,
        cached_input_micros BIGINT,
        cache_write_micros BIGINT,
        per_request_micros BIGINT,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE channels (
        id ${pk(d)},
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        base_url TEXT NOT NULL,
        api_key TEXT NOT NULL,
        models TEXT NOT NULL,
        groups TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        weight INTEGER NOT NULL DEFAULT 1,
        model_mapping TEXT NOT NULL DEFAULT '{}',
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      `CREATE TABLE usage_logs (
        id ${pk(d)},
        request_id TEXT NOT NULL,
        user_id BIGINT NOT NULL,
        key_id BIGINT,
        key_name TEXT NOT NULL,
        model TEXT NOT NULL,
        group_name TEXT NOT NULL,
        channel_id BIGINT,
        channel_name TEXT,
        prompt_tokens BIGINT NOT NULL DEFAULT 0,
        completion_tokens BIGINT NOT NULL DEFAULT 0,
        cached_tokens BIGINT NOT NULL DEFAULT 0,
        cost BIGINT NOT NULL DEFAULT 0,
        duration_ms BIGINT NOT NULL,
        first_token_ms BIGINT,
        stream INTEGER NOT NULL,
        status INTEGER NOT NULL,
        estimated INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX usage_logs_user_time ON usage_logs(user_id, created_at)`,
      `INSERT INTO groups (name, multiplier_micros, description, selectable) VALUES ('default', 1000000, 'Default group', 1)`,
    ],
  },
  {
    id: 20,
    name: 'usernames unique without regard to case',
    up: () => [
      // Accounts that already clash by case keep working: all but the oldest get `-<id>` appended
      // (they log in with the new name, shown to admins in the user list).
      `UPDATE users SET username = username || '-' || id
        WHERE id NOT IN (SELECT MIN(id) FROM users GROUP BY LOWER(username))`,
      `CREATE UNIQUE INDEX users_username_lower ON users (LOWER(username))`,
    ],
  },
  {
    id: 21,
    name: 'registration address, for the per-address registration limit',
    up: () => [
      `ALTER TABLE users ADD COLUMN registration_ip TEXT`,
      `CREATE INDEX users_registration_ip ON users (registration_ip, created_at)`,
    ],
  },
  {
    id: 50,
    name: 'outbox',
    // Durable side effects (src/outbox/). next_attempt_at doubles as the claim lease: a worker that
    // claims a row pushes it into the future, and attempts (bumped on each claim) fences late results.
    up: (d) => [
      `CREATE TABLE outbox (
        id ${pk(d)},
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        dedupe_key TEXT UNIQUE,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        done_at BIGINT
      )`,
      `CREATE INDEX outbox_due ON outbox(status, next_attempt_at)`,
    ],
  },
  {
    id: 70,
    name: 'redemption codes: batches, hashed codes, attempts for the wrong-code limit',
    up: (d) => [
      `CREATE TABLE redemption_batches (
        id ${pk(d)},
        name TEXT NOT NULL,
        quota BIGINT NOT NULL,
        code_count INTEGER NOT NULL,
        expires_at BIGINT,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_by BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE redemption_codes (
        id ${pk(d)},
        batch_id BIGINT NOT NULL REFERENCES redemption_batches(id),
        code_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        used_by BIGINT,
        used_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX redemption_codes_batch ON redemption_codes (batch_id, id)`,
      `CREATE TABLE redeem_attempts (
        id ${pk(d)},
        bucket TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX redeem_attempts_bucket ON redeem_attempts (bucket, created_at)`,
      `CREATE INDEX redeem_attempts_time ON redeem_attempts (created_at)`,
    ],
  },
  {
    id: 71,
    name: 'referral counts and wallet summary sums',
    up: () => [
      `CREATE INDEX users_inviter ON users (inviter_id)`,
      // Sums of credits by kind (trial, referral, topup…) for the wallet summary. Partial, so the
      // settlement's usage entries (the hot path) do not maintain it; queries say kind <> 'usage'.
      `CREATE INDEX ledger_credits ON ledger_entries (user_id, kind) WHERE kind <> 'usage'`,
    ],
  },
  {
    id: 60,
    name: 'payments: orders, callback audit, provider settings',
    up: (d) => [
      // Amounts: usd_cents as ordered; points and bonus_points as credited; pay_minor in `currency`
      // (CNY fen, USD cents) at `rate` (CNY per USD as entered, '1' for USD).
      `CREATE TABLE payment_orders (
        id ${pk(d)},
        order_no TEXT NOT NULL UNIQUE,
        user_id BIGINT NOT NULL REFERENCES users(id),
        provider TEXT NOT NULL,
        channel TEXT,
        usd_cents BIGINT NOT NULL,
        points BIGINT NOT NULL,
        bonus_points BIGINT NOT NULL,
        currency TEXT NOT NULL,
        pay_minor BIGINT NOT NULL,
        rate TEXT NOT NULL,
        status TEXT NOT NULL,
        trade_no TEXT,
        pay_json TEXT,
        paid_after_expiry INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        paid_at BIGINT,
        expired_at BIGINT,
        confirmed_by TEXT,
        refunded_at BIGINT,
        refunded_by TEXT,
        refund_reason TEXT
      )`,
      `CREATE INDEX payment_orders_user ON payment_orders (user_id, id)`,
      `CREATE INDEX payment_orders_status ON payment_orders (status, expires_at)`,
      `CREATE TABLE payment_callbacks (
        id ${pk(d)},
        provider TEXT NOT NULL,
        order_no TEXT,
        source TEXT NOT NULL,
        method TEXT,
        fields TEXT NOT NULL,
        verdict TEXT NOT NULL,
        credited INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX payment_callbacks_order ON payment_callbacks (order_no, id)`,
      `CREATE TABLE payment_providers (
        provider TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL DEFAULT 0,
        config TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    id: 61,
    name: 'enterprise invoices',
    up: (d) => [
      `CREATE TABLE invoices (
        id ${pk(d)},
        user_id BIGINT NOT NULL REFERENCES users(id),
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        tax_id TEXT NOT NULL,
        email TEXT NOT NULL,
        line_item TEXT NOT NULL,
        address TEXT,
        phone TEXT,
        bank_name TEXT,
        bank_account TEXT,
        currency TEXT NOT NULL,
        amount_minor BIGINT NOT NULL,
        status TEXT NOT NULL,
        url TEXT,
        reject_reason TEXT,
        released_orders TEXT,
        created_at BIGINT NOT NULL,
        decided_at BIGINT,
        decided_by TEXT
      )`,
      `CREATE INDEX invoices_user ON invoices (user_id, id)`,
      `CREATE INDEX invoices_status ON invoices (status, id)`,
      // One row per invoiced top-up: the primary key is what makes "a top-up is invoiced once" hold
      // under concurrency. A rejected invoice's rows are deleted, so its top-ups can be invoiced again.
      `CREATE TABLE invoice_orders (
        order_no TEXT PRIMARY KEY,
        invoice_id BIGINT NOT NULL REFERENCES invoices(id)
      )`,
      `CREATE INDEX invoice_orders_invoice ON invoice_orders (invoice_id)`,
    ],
  },
  {
    id: 30,
    name: 'prices: max output tokens per choice (hold cap)',
    up: () => [`ALTER TABLE prices ADD COLUMN max_output_tokens BIGINT`],
  },
  {
    // Holds can never be released twice into a negative `held` (issue 6, hole 1). A database the old
    // sweeper already drove negative gets `held` recomputed from its live hold rows first (with hold
    // changes paused by the table lock, so the sum is exact). SQLite cannot add a CHECK to an existing
    // table without rebuilding it (which would cascade-delete keys and sessions), so there triggers
    // refuse the same writes with the same message.
    id: 10,
    name: 'held_non_negative',
    up: (d) =>
      d === 'postgres'
        ? [
            'LOCK TABLE holds IN SHARE MODE',
            'UPDATE users SET held = (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE holds.user_id = users.id) WHERE held < 0',
            'UPDATE api_keys SET held = (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE holds.key_id = api_keys.id) WHERE held < 0',
            'ALTER TABLE users ADD CONSTRAINT users_held_non_negative CHECK (held >= 0)',
            'ALTER TABLE api_keys ADD CONSTRAINT api_keys_held_non_negative CHECK (held >= 0)',
          ]
        : [
            'UPDATE users SET held = (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE holds.user_id = users.id) WHERE held < 0',
            'UPDATE api_keys SET held = (SELECT COALESCE(SUM(amount), 0) FROM holds WHERE holds.key_id = api_keys.id) WHERE held < 0',
            ...['users', 'api_keys'].flatMap((t) =>
              ['INSERT', 'UPDATE OF held'].map(
                (on) => `CREATE TRIGGER ${t}_held_non_negative_${on.split(' ')[0]!.toLowerCase()} BEFORE ${on} ON ${t}
                  WHEN NEW.held < 0 BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ${t}_held_non_negative'); END`,
              ),
            ),
          ],
  },
  {
    // One write per request (issue 6): the usage-log row becomes the ledger's record of a charge (its
    // cost and the balance after it), instead of a usage ledger entry beside it. Request ids become
    // unique (the charge's unique reference). Existing data is moved: duplicate zero-cost rows (a retry
    // could write them; they never moved money) go, each log row takes its entry's balance_after, and
    // usage entries matched by their log row are removed, so every charge is counted exactly once.
    id: 11,
    name: 'usage_log_is_ledger',
    up: () => [
      'ALTER TABLE usage_logs ADD COLUMN balance_after BIGINT',
      'DELETE FROM usage_logs WHERE cost = 0 AND id NOT IN (SELECT MIN(id) FROM usage_logs GROUP BY request_id)',
      'CREATE UNIQUE INDEX usage_logs_request ON usage_logs(request_id)',
      `UPDATE usage_logs SET balance_after = (SELECT e.balance_after FROM ledger_entries e WHERE e.reference = 'req:' || usage_logs.request_id)
       WHERE cost > 0`,
      `DELETE FROM ledger_entries WHERE kind = 'usage'
       AND EXISTS (SELECT 1 FROM usage_logs l WHERE l.request_id = substr(ledger_entries.reference, 5) AND l.cost = -ledger_entries.amount)`,
    ],
  },
  {
    // Holds without row locks (issue 6, PostgreSQL under load): what is held becomes the sum of the
    // live hold rows, so placing a hold no longer writes (or waits on) the users / api_keys rows, which
    // the settlement keeps locked until its synchronous commit. `held >= 0` is replaced by the same
    // invariant on its parts (every hold amount >= 0). The hold itself is the function place_hold (see
    // src/ledger/hold-sql.ts for why it is a function and how it serialises).
    id: 12,
    name: 'held_is_sum_of_hold_rows',
    up: (d) =>
      d === 'postgres'
        ? [
            'ALTER TABLE users DROP COLUMN held',
            'ALTER TABLE api_keys DROP COLUMN held',
            'ALTER TABLE holds ADD CONSTRAINT holds_amount_non_negative CHECK (amount >= 0)',
            'CREATE INDEX holds_user ON holds(user_id)',
            'CREATE INDEX holds_key ON holds(key_id)',
            PLACE_HOLD_FUNCTION,
          ]
        : [
            ...['users', 'api_keys'].flatMap((t) => ['insert', 'update'].map((on) => `DROP TRIGGER IF EXISTS ${t}_held_non_negative_${on}`)),
            'ALTER TABLE users DROP COLUMN held',
            'ALTER TABLE api_keys DROP COLUMN held',
            ...['INSERT', 'UPDATE'].map(
              (on) => `CREATE TRIGGER holds_amount_non_negative_${on.toLowerCase()} BEFORE ${on} ON holds
                WHEN NEW.amount < 0 BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: holds_amount_non_negative'); END`,
            ),
            'CREATE INDEX holds_user ON holds(user_id)',
            'CREATE INDEX holds_key ON holds(key_id)',
          ],
  },
  {
    // Issue 7 (alerts, email): the admin's SMTP settings (one row, password sealed) and each user's
    // notification settings (secrets sealed; threshold in points).
    id: 80,
    name: 'smtp_and_notification_settings',
    up: () => [
      `CREATE TABLE smtp_settings (id INTEGER PRIMARY KEY, config TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE notification_settings (
        user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        method TEXT NOT NULL,
        threshold_quota BIGINT NOT NULL,
        config TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    // Optional email verification: the address a user proved (lower case), unique, so one address
    // earns one trial credit.
    id: 81,
    name: 'verified_email',
    up: () => [
      'ALTER TABLE users ADD COLUMN verified_email TEXT',
      'ALTER TABLE users ADD COLUMN email_verified_at BIGINT',
      'CREATE UNIQUE INDEX users_verified_email ON users(verified_email)',
    ],
  },
];

// Any fixed number: instances starting at once on one PostgreSQL database queue on this lock, so only
// the first applies the migrations and the others then find them done.
const MIGRATION_LOCK = 0x6d6f6c65;

/**
 * Applies the migrations not yet applied, in one transaction; returns how many it applied.
 * `through` stops after that migration id (tests build an older schema with it).
 */
export async function migrate(db: Database, opts: { through?: number } = {}): Promise<number> {
  return db.tx(async (q) => {
    if (db.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await q.run(`CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const done = new Set((await q.all<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
    let applied = 0;
    // By id: migrations of work done in parallel were appended in merge order, not id order.
    for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
      if (done.has(m.id) || (opts.through !== undefined && m.id > opts.through)) continue;
      for (const sql of m.up(db.dialect)) await q.run(sql);
      await q.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [m.id, m.name, Date.now()]);
      applied++;
    }
    return applied;
  });
}

/** The ids of every migration this version knows (a checker refuses a database missing any). */
export const knownMigrationIds = (): number[] => migrations.map((m) => m.id);
