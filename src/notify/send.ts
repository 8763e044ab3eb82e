// Sends one message to one target by its method.
import type { ConnectionOptions } from 'node:tls';
import { sendBark } from './bark.ts';
import { sendEmail, type SmtpSettings } from './email.ts';
import { NotifyError } from './errors.ts';
import { sendGotify } from './gotify.ts';
import type { NotifyMessage, NotifyTarget } from './types.ts';
import type { Resolver } from './url-guard.ts';
import { sendWebhook } from './webhook.ts';

export interface SendContext {
  /** The admin's SMTP settings; needed for the email method only. */
  smtp: SmtpSettings | null;
  allowPrivate: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  resolve?: Resolver;
  emailTls?: ConnectionOptions;
  now?: () => number;
}

export async function sendNotification(target: NotifyTarget, message: NotifyMessage, ctx: SendContext): Promise<void> {
  const http = { allowPrivate: ctx.allowPrivate, timeoutMs: ctx.timeoutMs, signal: ctx.signal, resolve: ctx.resolve };
  switch (target.method) {
    case 'email':
      if (!ctx.smtp) throw new NotifyError('email notifications need the SMTP settings, which are not configured', { permanent: true });
      return sendEmail(ctx.smtp, { to: target.email, subject: message.title, text: message.content }, { timeoutMs: ctx.timeoutMs, tls: ctx.emailTls });
    case 'webhook':
      return sendWebhook(target, message, { ...http, now: ctx.now });
    case 'bark':
      return sendBark(target, message, http);
    case 'gotify':
      return sendGotify(target, message, http);
    default:
      throw new NotifyError(`unknown notification method ${String((target as { method?: unknown }).method)}`, { permanent: true });
  }
}
