// Schema of the wallet: the outbox, payment orders and callbacks, invoices, redemption codes, SMTP and
// notification settings, verified emails.
import { pk, type Migration } from './migration.ts';

export const walletMigrations: Migration[] = [
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
  {
    // Order expiry and key-expired alerts moved to the outbox (rows due at the expiry time, enqueued
    // with the order or key from now on): the same rows for what exists already. Keys that expired
    // before this version get no alert.
    id: 100,
    name: 'outbox_order_and_key_expiry',
    up: (d) => {
      const nowMs = d === 'sqlite' ? `CAST(strftime('%s', 'now') AS INTEGER) * 1000` : `(EXTRACT(EPOCH FROM now()) * 1000)::bigint`;
      const obj = d === 'sqlite' ? 'json_object' : 'json_build_object';
      const text = (json: string) => (d === 'sqlite' ? json : `(${json})::text`);
      return [
        `INSERT INTO outbox (kind, payload, dedupe_key, status, attempts, next_attempt_at, created_at)
         SELECT 'order.expire', ${text(`${obj}('orderNo', order_no)`)}, 'order.expire:' || order_no, 'pending', 0, expires_at, ${nowMs}
         FROM payment_orders WHERE status = 'pending'
         ON CONFLICT (dedupe_key) DO NOTHING`,
        `INSERT INTO outbox (kind, payload, dedupe_key, status, attempts, next_attempt_at, created_at)
         SELECT 'notify.user',
                ${text(`${obj}('userId', user_id, 'event', ${obj}('type', 'key_expired', 'keyId', id, 'keyName', name, 'expiresAt', expires_at))`)},
                'alert:key_expired:' || id || ':' || expires_at, 'pending', 0, expires_at, ${nowMs}
         FROM api_keys WHERE expires_at > ${nowMs}
         ON CONFLICT (dedupe_key) DO NOTHING`,
      ];
    },
  },
];
