// The admin's SMTP settings (`smtp_settings`, one row): the password is sealed with the gateway's
// SecretBox (same key as channel keys) and write-only in the API; a PUT that omits it keeps it.
import { z } from 'zod';
import type { Database } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import type { ConnectionOptions } from 'node:tls';
import { NotifyError, sendEmail, SMTP_SECURITY, type SmtpSettings } from '../notify/index.ts';

export const smtpSettingsSchema = z
  .object({
    host: z.string().trim().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    security: z.enum(SMTP_SECURITY as [SmtpSettings['security'], ...SmtpSettings['security'][]]),
    user: z.string().max(256).nullable().optional(),
    password: z.string().max(256).nullable().optional(),
    from: z.string().trim().min(3).max(320),
  })
  .strict();

export type SmtpInput = z.infer<typeof smtpSettingsSchema>;

/** The stored settings with the password opened; null when none are stored (or it cannot be opened). */
export async function loadSmtpSettings(db: Database, secrets: SecretBox): Promise<SmtpSettings | null> {
  const row = await db.get<{ config: string }>('SELECT config FROM smtp_settings WHERE id = 1');
  if (!row) return null;
  const c = JSON.parse(row.config) as SmtpSettings;
  try {
    return { ...c, password: c.password ? secrets.open(c.password) : null };
  } catch {
    // The secret key changed: sending without the password would only fail later with a worse message.
    return null;
  }
}

/** Stores the settings; an omitted (undefined) password keeps the stored one, null or "" clears it. */
export async function saveSmtpSettings(db: Database, secrets: SecretBox, input: SmtpInput): Promise<SmtpSettings> {
  const current = await loadSmtpSettings(db, secrets);
  const password = input.password === undefined ? (current?.password ?? null) : input.password || null;
  const plain: SmtpSettings = { host: input.host, port: input.port, security: input.security, user: input.user || null, password, from: input.from };
  const sealed = { ...plain, password: password ? secrets.seal(password) : null };
  await db.run(
    `INSERT INTO smtp_settings (id, config, updated_at) VALUES (1, ?, ?)
     ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
    [JSON.stringify(sealed), Date.now()],
  );
  return plain;
}

/** What the API shows: the password as a mask (null when not set). */
export function smtpView(s: SmtpSettings | null) {
  if (!s) return null;
  return { host: s.host, port: s.port, security: s.security, user: s.user ?? null, password: s.password ? '********' : null, from: s.from };
}

/** Sends one email now through the stored SMTP settings (the admin's test, verification links). */
export async function sendWithSmtp(
  deps: { db: Database; secrets: SecretBox; emailTls?: ConnectionOptions },
  message: { to: string; subject: string; text: string },
): Promise<void> {
  const smtp = await loadSmtpSettings(deps.db, deps.secrets);
  if (!smtp) throw new NotifyError('SMTP is not configured (PUT /api/admin/smtp)', { permanent: true });
  await sendEmail(smtp, message, { tls: deps.emailTls });
}
