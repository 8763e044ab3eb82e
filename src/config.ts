import { dirname } from 'node:path';
import { z } from 'zod';

// Every setting comes from the environment, validated once at start.
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().default('sqlite:./data/moleapi.db'),
  REDIS_URL: z.string().optional(),
  // Where files the gateway must keep live (charges owed after a database outage). Default: the SQLite
  // file's folder, or ./data.
  DATA_DIR: z.string().optional(),
  // PostgreSQL: answer once a request's settlement is in DATA_DIR's settlement journal, and commit it
  // right after (settlement-journal.ts). Off: every answer waits for its settlement's commit.
  SETTLEMENT_JOURNAL: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  MOLEAPI_ADMIN_PASSWORD: z.string().min(8).optional(),
  // Seals upstream channel keys at rest. Unset: a random key in DATA_DIR/secret.key (one instance).
  MOLEAPI_SECRET_KEY: z.string().min(16, 'use at least 16 characters (32 random bytes, hex or base64, is best)').optional(),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  // Time allowed to open a connection (TCP and TLS) to an upstream before we try another channel.
  UPSTREAM_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // First byte: time allowed for an upstream to send response headers before we try another channel.
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  // Idle: longest silence allowed inside a response body (between stream chunks).
  UPSTREAM_BODY_TIMEOUT_MS: z.coerce.number().int().positive().default(300_000),
  UPSTREAM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  // Requests in flight per upstream origin; past it a channel is skipped (503 upstream_busy if none is left). 0 = unbounded.
  UPSTREAM_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(0),
  // Largest non-streamed upstream answer read into memory; a larger one is refused with 502.
  MAX_RESPONSE_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  SESSION_TTL_HOURS: z.coerce.number().int().positive().default(24 * 7),
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  // The session cookie's Secure flag: `auto` sets it when the caller came over HTTPS (X-Forwarded-Proto
  // counts when TRUST_PROXY is on); `true` always; `false` never.
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  // Browser origins besides the gateway's own allowed to make state-changing /api requests
  // (comma-separated, e.g. a console on another host): https://console.example.com
  TRUSTED_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const list = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const o of list) {
        let ok = false;
        try {
          ok = new URL(o).origin === o.replace(/\/$/, '');
        } catch {}
        if (!ok) ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin like https://console.example.com` });
      }
      return list.map((o) => o.replace(/\/$/, ''));
    }),
  // The built console (npm run build writes web/dist); unset: web/dist beside src/ and dist/.
  WEB_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

export function dataDir(config: Config): string {
  if (config.DATA_DIR) return config.DATA_DIR;
  const sqliteFile = /^sqlite:(?:\/\/)?(.+)$/.exec(config.DATABASE_URL)?.[1];
  return sqliteFile && sqliteFile !== ':memory:' ? dirname(sqliteFile) : './data';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
