// Email through the admin's SMTP server (nodemailer). `security`: "tls" = TLS from the first byte
// (usually port 465), "starttls" = plain connection upgraded with STARTTLS, which is required (587),
// "none" = no TLS at all (a local relay). Certificates are verified. nodemailer is loaded on the first
// send: most gateways never send mail, and it is ~10 MB of resident memory the relay does not need.
import type { ConnectionOptions } from 'node:tls';
import { NotifyError } from './errors.ts';

export type SmtpSecurity = 'tls' | 'starttls' | 'none';
export const SMTP_SECURITY: readonly SmtpSecurity[] = ['tls', 'starttls', 'none'];

export interface SmtpSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
  /** Empty or null: no authentication. */
  user?: string | null;
  password?: string | null;
  /** Sender, e.g. "MoleAPI <noreply@example.com>". */
  from: string;
}

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface EmailOptions {
  /** Connect, greeting and each socket silence; also the whole send. Default 15000. */
  timeoutMs?: number;
  /** Extra TLS options, e.g. `ca` for a relay with a private certificate authority. */
  tls?: ConnectionOptions;
}

// Deliberately loose (the SMTP server is the judge); enough to refuse obvious garbage early.
const ADDRESS = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

export function checkSmtpSettings(s: SmtpSettings): void {
  if (!s.host) throw new NotifyError('SMTP host is not set', { permanent: true });
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new NotifyError('SMTP port must be 1–65535', { permanent: true });
  if (!SMTP_SECURITY.includes(s.security)) throw new NotifyError('SMTP security must be tls, starttls or none', { permanent: true });
  if (!s.from) throw new NotifyError('SMTP from address is not set', { permanent: true });
}

export async function sendEmail(smtp: SmtpSettings, message: EmailMessage, opts: EmailOptions = {}): Promise<void> {
  checkSmtpSettings(smtp);
  if (!isEmailAddress(message.to)) throw new NotifyError('email address is not valid', { permanent: true });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    tls: opts.tls,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      transport.sendMail({ from: smtp.from, to: message.to, subject: message.subject, text: message.text, html: message.html }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new NotifyError(`SMTP ${smtp.host}:${smtp.port}: no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    if (err instanceof NotifyError) throw err;
    // nodemailer's messages carry the server's reply (e.g. "Invalid login: 535 …"), never the password.
    throw new NotifyError(`SMTP ${smtp.host}:${smtp.port}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}
