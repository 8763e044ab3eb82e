// Alerts as outbox rows: the settlement (or any state change) enqueues an entry in its own
// transaction; the handler reads the user's current settings when it runs, so no secret (webhook
// secret, Gotify token) is copied into the outbox.
import type { ConnectionOptions } from 'node:tls';
import type { OutboxEntry, OutboxHandler } from '../outbox/index.ts';
import type { SmtpSettings } from './email.ts';
import { renderAlert, type AlertEvent } from './messages.ts';
import { sendNotification } from './send.ts';
import type { NotifyTarget } from './types.ts';
import type { Resolver } from './url-guard.ts';

export const NOTIFY_USER_KIND = 'notify.user';

export interface NotifyUserPayload {
  userId: number;
  event: AlertEvent;
}

/** Dedupe keys: one row per crossing (named by the ledger entry that crossed) or per expiry time. */
export const alertDedupeKey = {
  balanceLow: (userId: number, reference: string) => `alert:balance_low:${userId}:${reference}`,
  keyLimit: (keyId: number, reference: string) => `alert:key_limit:${keyId}:${reference}`,
  keyExpired: (keyId: number, expiresAt: number) => `alert:key_expired:${keyId}:${expiresAt}`,
};

export function userAlertEntry(userId: number, event: AlertEvent, dedupeKey?: string, runAt?: number): OutboxEntry {
  const payload: NotifyUserPayload = { userId, event };
  return { kind: NOTIFY_USER_KIND, payload, dedupeKey, runAt };
}

/** The key-expired alert, scheduled for the moment the key expires (enqueue when expiresAt is set). */
export function keyExpiryEntry(userId: number, key: { id: number; name: string; expiresAt: number }): OutboxEntry {
  return userAlertEntry(userId, { type: 'key_expired', keyId: key.id, keyName: key.name, expiresAt: key.expiresAt }, alertDedupeKey.keyExpired(key.id, key.expiresAt), key.expiresAt);
}

export interface NotifyDeps {
  /** The user's delivery settings now; null when they have none (the alert is dropped). */
  target(userId: number): Promise<NotifyTarget | null>;
  smtp(): Promise<SmtpSettings | null>;
  /** The admin setting allowPrivateWebhooks. */
  allowPrivate(): Promise<boolean>;
  /**
   * Asked just before sending; false drops the alert. E.g. a key_expired alert whose key was since
   * deleted or given another expiry, or a balance_low alert for a user who is disabled.
   */
  stillRelevant?(userId: number, event: AlertEvent): Promise<boolean>;
  timeoutMs?: number;
  resolve?: Resolver;
  emailTls?: ConnectionOptions;
}

/** The outbox handlers for notifications: pass them (merged with others) to startOutboxWorker. */
export function notificationHandlers(deps: NotifyDeps): Record<string, OutboxHandler> {
  const notifyUser: OutboxHandler = async (payload: NotifyUserPayload, ctx) => {
    if (deps.stillRelevant && !(await deps.stillRelevant(payload.userId, payload.event))) return;
    const target = await deps.target(payload.userId);
    if (!target) return;
    const smtp = target.method === 'email' ? await deps.smtp() : null;
    await sendNotification(target, renderAlert(payload.event), {
      smtp,
      allowPrivate: await deps.allowPrivate(),
      timeoutMs: deps.timeoutMs,
      signal: ctx.signal,
      resolve: deps.resolve,
      emailTls: deps.emailTls,
    });
  };
  return { [NOTIFY_USER_KIND]: notifyUser };
}
