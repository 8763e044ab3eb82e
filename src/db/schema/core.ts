// Schema of accounts, keys, the ledger, holds, pricing, channels and usage logs. One migration set for
// both dialects: timestamps are epoch milliseconds, booleans 0/1, JSON as text.
import { PLACE_HOLD_FUNCTION } from '../../ledger/hold-sql.ts';
import { pk, type Migration } from './migration.ts';

export const coreMigrations: Migration[] = [
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
    id: 30,
    name: 'prices: max output tokens per choice (hold cap)',
    up: () => [`ALTER TABLE prices ADD COLUMN max_output_tokens BIGINT`],
  },
  {
    id: 130,
    name: 'channels: per-type config (sealed JSON: Azure api-version and deployments, Vertex project, extra headers)',
    up: () => [`ALTER TABLE channels ADD COLUMN config TEXT NOT NULL DEFAULT '{}'`],
  },
  {
    // USD per 1M audio / image tokens of the prompt and the answer; NULL: the input / output price.
    id: 175,
    name: 'prices: audio and image token prices',
    up: () => ['audio_input', 'audio_output', 'image_input', 'image_output'].map((c) => `ALTER TABLE prices ADD COLUMN ${c}_micros BIGINT`),
  },
];
