// Notifications: senders (email, webhook, Bark, Gotify) behind a URL guard, the alert rules, the
// message texts, and the outbox handler that ties them together. See docs/notifications.md.
export { balanceCrossedBelow, decideBalanceAlert, decideKeyLimitAlert, INITIAL_ALERT_STATE, keyHasExpired, keyLimitCrossed, type AlertState } from './alerts.ts';
export { sendBark } from './bark.ts';
export { checkSmtpSettings, isEmailAddress, sendEmail, SMTP_SECURITY, type EmailMessage, type SmtpSecurity, type SmtpSettings } from './email.ts';
export { NotifyError } from './errors.ts';
export { sendGotify } from './gotify.ts';
export { alertDedupeKey, keyExpiryEntry, notificationHandlers, NOTIFY_USER_KIND, userAlertEntry, type NotifyDeps, type NotifyUserPayload } from './jobs.ts';
export { renderAlert, usdText, type AlertEvent } from './messages.ts';
export { sendNotification, type SendContext } from './send.ts';
export { NOTIFY_METHODS, type NotifyMessage, type NotifyMethod, type NotifyTarget } from './types.ts';
export { checkTarget, checkTargetReachable, type TargetProblem } from './validate.ts';
export { isPublicAddress, parseReceiverUrl, resolveReceiver, type Resolver } from './url-guard.ts';
export { sendWebhook, webhookSignature } from './webhook.ts';
