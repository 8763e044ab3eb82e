import { z } from 'zod';
import type { Database } from '../db/index.ts';
import { ReloadOrder } from '../lib/reload-order.ts';
import { DEFAULT_TOPUP_SETTINGS, topupSettingsShape } from '../wallet/topup-settings.ts';

/** Operator settings kept in the database and editable in the admin API. */
export const settingsSchema = z.object({
  // The name the console shows (sidebar, sign-in page, browser tab); public through GET /api/status.
  siteName: z.string().trim().min(1).max(64),
  trialQuota: z.number().int().min(0).max(1e13),
  registrationEnabled: z.boolean(),
  defaultGroup: z.string().min(1).max(64),
  defaultMaxOutputTokens: z.number().int().min(1).max(10_000_000),
  // Self-registrations (each gets the trial credit) per client address per hour; 0 = unlimited.
  registrationsPerIpPerHour: z.number().int().min(0).max(1_000_000),
  // Points credited to an inviter when someone registers with their invite code; 0 = no reward.
  referralRewardQuota: z.number().int().min(0).max(1e13),
  // Percentage of an invitee's paid top-ups credited to the inviter (rounded down to whole points).
  referralRebatePercent: z.number().int().min(0).max(100),
  // Stored for later issues (balance alerts); invoiceDelayDays is among the top-up settings.
  alertThresholdQuota: z.number().int().min(0).max(1e13),
  allowPrivateWebhooks: z.boolean(),
  // Registration needs an email; the trial credit (and the inviter's reward) wait for its verification.
  emailVerificationRequired: z.boolean(),
  // Channel health (channels/health.ts): auto-disable a channel after this many failures among its
  // last channelFailureWindow attempts (0 = never on failures; a revoked key still disables at once),
  // and probe auto-disabled channels this often to re-enable them.
  channelFailureThreshold: z.number().int().min(0).max(1000),
  channelFailureWindow: z.number().int().min(1).max(1000),
  channelProbeIntervalSeconds: z.number().int().min(1).max(86_400),
  ...topupSettingsShape,
});
export type Settings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  siteName: 'MoleAPI',
  trialQuota: 250_000, // $0.50
  registrationEnabled: true,
  defaultGroup: 'default',
  defaultMaxOutputTokens: 4096,
  registrationsPerIpPerHour: 10,
  referralRewardQuota: 250_000, // $0.50
  referralRebatePercent: 0,
  alertThresholdQuota: 500_000, // $1
  allowPrivateWebhooks: false,
  emailVerificationRequired: false,
  channelFailureThreshold: 5,
  channelFailureWindow: 10,
  channelProbeIntervalSeconds: 60,
  ...DEFAULT_TOPUP_SETTINGS,
};

export class SettingsStore {
  current: Settings = { ...DEFAULT_SETTINGS };
  private order = new ReloadOrder();

  constructor(private db: Database) {}

  async reload(): Promise<void> {
    const ticket = this.order.begin();
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM settings');
    const stored: Record<string, unknown> = {};
    for (const r of rows) stored[r.key] = JSON.parse(r.value);
    const next = settingsSchema.parse({ ...DEFAULT_SETTINGS, ...stored });
    // A reload that started later (or an update) may already have applied a newer state.
    if (this.order.mayApply(ticket)) this.current = next;
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = settingsSchema.parse({ ...this.current, ...patch });
    await this.db.tx(async (q) => {
      for (const [key, value] of Object.entries(patch)) {
        await q.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, JSON.stringify(value)]);
      }
    });
    // Counts as a reload that read right after the commit, so an older reload still running is dropped.
    if (this.order.mayApply(this.order.begin())) this.current = next;
    return next;
  }
}
