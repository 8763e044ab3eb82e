// The outbox handlers the gateway runs: user notifications (alerts, tests) with their settings read
// at run time, and plain emails (verification links) through the admin's SMTP settings.
import type { ConnectionOptions } from 'node:tls';
import type { Database } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { notificationHandlers } from '../notify/index.ts';
import type { OutboxHandler } from '../outbox/index.ts';
import type { SettingsStore } from '../settings/store.ts';
import { loadAlertSettings, targetOf } from './alert-settings.ts';
import { verifyEmailHandler, VERIFY_EMAIL_KIND } from './email-verification.ts';
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
      // A disabled account gets no alerts.
      stillRelevant: async (userId) => Number((await deps.db.get<{ enabled: number }>('SELECT enabled FROM users WHERE id = ?', [userId]))?.enabled ?? 0) === 1,
      emailTls: deps.emailTls,
    }),
    [VERIFY_EMAIL_KIND]: verifyEmailHandler(deps),
  };
}
