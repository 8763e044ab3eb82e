// The outbox handlers the gateway runs: user notifications (alerts, tests) with their settings read
// at run time, plain emails (verification links) through the admin's SMTP settings, and order expiry.
import type { ConnectionOptions } from 'node:tls';
import type { Database } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { notificationHandlers, type AlertEvent } from '../notify/index.ts';
import type { OutboxHandler } from '../outbox/index.ts';
import type { SettingsStore } from '../settings/store.ts';
import { loadAlertSettings, targetOf } from './alert-settings.ts';
import { verifyEmailHandler, VERIFY_EMAIL_KIND } from './email-verification.ts';
import { orderExpiryHandler, ORDER_EXPIRE_KIND } from './order-expiry.ts';
import { loadSmtpSettings } from './smtp-settings.ts';

export interface WiringDeps {
  db: Database;
  secrets: SecretBox;
  settings: SettingsStore;
  /** Extra TLS options for SMTP (tests trust their own CA with it). */
  emailTls?: ConnectionOptions;
}

export function gatewayOutboxHandlers(deps: WiringDeps): Record<string, OutboxHandler> {
  return {
    ...notificationHandlers({
      target: async (userId) => {
        const s = await loadAlertSettings(deps.db, deps.secrets, userId);
        return s && targetOf(s);
      },
      smtp: () => loadSmtpSettings(deps.db, deps.secrets),
      allowPrivate: async () => deps.settings.current.allowPrivateWebhooks,
      stillRelevant: (userId, event) => stillRelevant(deps.db, userId, event),
      emailTls: deps.emailTls,
    }),
    [VERIFY_EMAIL_KIND]: verifyEmailHandler(deps),
    [ORDER_EXPIRE_KIND]: orderExpiryHandler(deps.db),
  };
}

/**
 * A disabled account gets no alerts. A key-expired alert (scheduled when the expiry was set) is sent
 * only if the key still exists, is enabled and still expires at that time.
 */
async function stillRelevant(db: Database, userId: number, event: AlertEvent): Promise<boolean> {
  const user = await db.get<{ enabled: number }>('SELECT enabled FROM users WHERE id = ?', [userId]);
  if (Number(user?.enabled ?? 0) !== 1) return false;
  if (event.type !== 'key_expired') return true;
  const key = await db.get<{ enabled: number; expires_at: number | null }>('SELECT enabled, expires_at FROM api_keys WHERE id = ? AND user_id = ?', [event.keyId, userId]);
  return Number(key?.enabled ?? 0) === 1 && key?.expires_at != null && Number(key.expires_at) === event.expiresAt;
}
