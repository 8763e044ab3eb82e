// Each user's notification settings (`notification_settings`): the delivery method with its target
// fields, and the balance threshold. The webhook secret and Gotify token are sealed at rest and
// write-only in the API (a PUT that omits one keeps the stored value).
import type { Database, Queryable } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import type { NotifyMethod, NotifyTarget } from '../notify/index.ts';

export interface AlertSettings {
  method: NotifyMethod;
  thresholdQuota: number;
  email: string | null;
  webhookUrl: string | null;
  webhookSecret: string | null;
  barkUrl: string | null;
  gotifyUrl: string | null;
  gotifyToken: string | null;
  gotifyPriority: number | null;
}

const SECRETS = ['webhookSecret', 'gotifyToken'] as const;
const FIELDS = ['email', 'webhookUrl', 'webhookSecret', 'barkUrl', 'gotifyUrl', 'gotifyToken', 'gotifyPriority'] as const;

export async function loadAlertSettings(q: Queryable, secrets: SecretBox, userId: number): Promise<AlertSettings | null> {
  const row = await q.get<{ method: string; threshold_quota: number; config: string }>(
    'SELECT method, threshold_quota, config FROM notification_settings WHERE user_id = ?',
    [userId],
  );
  if (!row) return null;
  const c = JSON.parse(row.config) as Record<string, unknown>;
  for (const k of SECRETS) {
    if (typeof c[k] !== 'string') continue;
    try {
      c[k] = secrets.open(c[k] as string);
    } catch {
      c[k] = null; // sealed with another secret key: the user enters it again
    }
  }
  const out: Record<string, unknown> = { method: row.method, thresholdQuota: Number(row.threshold_quota) };
  for (const k of FIELDS) out[k] = c[k] ?? null;
  return out as unknown as AlertSettings;
}

export async function saveAlertSettings(db: Database, secrets: SecretBox, userId: number, s: AlertSettings): Promise<void> {
  const config: Record<string, unknown> = {};
  for (const k of FIELDS) config[k] = s[k];
  for (const k of SECRETS) if (typeof config[k] === 'string' && config[k] !== '') config[k] = secrets.seal(config[k] as string);
  await db.run(
    `INSERT INTO notification_settings (user_id, method, threshold_quota, config, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET method = excluded.method, threshold_quota = excluded.threshold_quota,
       config = excluded.config, updated_at = excluded.updated_at`,
    [userId, s.method, s.thresholdQuota, JSON.stringify(config), Date.now()],
  );
}

/** The sender's target for these settings (the method's fields only). */
export function targetOf(s: AlertSettings): NotifyTarget {
  switch (s.method) {
    case 'email':
      return { method: 'email', email: s.email ?? '' };
    case 'webhook':
      return { method: 'webhook', webhookUrl: s.webhookUrl ?? '', webhookSecret: s.webhookSecret };
    case 'bark':
      return { method: 'bark', barkUrl: s.barkUrl ?? '' };
    case 'gotify':
      return { method: 'gotify', gotifyUrl: s.gotifyUrl ?? '', gotifyToken: s.gotifyToken ?? '', gotifyPriority: s.gotifyPriority };
  }
}

/** What GET answers: secrets masked (null when not set). */
export function alertSettingsView(s: AlertSettings) {
  return { ...s, webhookSecret: s.webhookSecret ? '********' : null, gotifyToken: s.gotifyToken ? '********' : null };
}
