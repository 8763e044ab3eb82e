import { randomBytes } from 'node:crypto';
import { createUser } from './accounts/users.ts';
import type { Gateway } from './gateway.ts';

/** On first start, creates the root account `admin`. Returns the generated password, if one was made. */
export async function ensureAdmin(gw: Gateway, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
  const existing = await gw.db.get("SELECT id FROM users WHERE role = 'root' LIMIT 1");
  if (existing) return { created: false };
  const generated = password ? undefined : randomBytes(12).toString('base64url');
  await createUser(gw.db, { username: 'admin', password: password ?? generated!, role: 'root', group: 'default', trialQuota: 0 });
  return { created: true, generatedPassword: generated };
}
