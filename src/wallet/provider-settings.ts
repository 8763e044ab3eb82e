// Payment provider settings (`payment_providers`): enabled flag and config JSON whose secret fields are
// sealed with the gateway's SecretBox (same key as channel keys). Secrets are write-only: answers
// show a mask, and a PUT that omits one keeps the stored value.
import { z } from 'zod';
import type { Database } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { createProvider, PROVIDER_IDS, SECRET_SETTINGS, type PaymentProvider, type ProviderConfigs, type ProviderId } from './payments/index.ts';

const url = z.url({ protocol: /^https?$/ }).max(512);
const text = (max = 256) => z.string().trim().min(1).max(max);

/** Each provider's settings, as the admin API accepts them (all required once the provider is enabled). */
export const PROVIDER_CONFIG_SCHEMAS = {
  epay: z.object({
    baseUrl: url,
    pid: text(64),
    key: text(256),
    signStyle: z.enum(['append', 'ampersand-key']).optional(),
    mode: z.enum(['redirect', 'form', 'mapi']).optional(),
  }),
  lantu: z.object({
    baseUrl: url.optional(),
    mchId: text(64),
    key: text(256),
    timeExpire: z.string().regex(/^\d{1,4}[mh]$/, 'like "5m" or "2h"').optional(),
  }),
  alipay: z.object({
    gateway: url.optional(),
    appId: text(64),
    privateKey: z.string().trim().min(1).max(8192),
    alipayPublicKey: z.string().trim().min(1).max(8192),
    sellerId: text(64).optional(),
    mode: z.enum(['page', 'qr', 'auto']).optional(),
  }),
  stripe: z.object({
    secretKey: text(256),
    webhookSecret: text(256),
    apiBase: url.optional(),
  }),
  transfer: z.object({ bankName: text(128), accountName: text(128), accountNo: text(64) }),
  sandbox: z.object({}),
} satisfies { [K in ProviderId]: z.ZodObject };

export const isProviderId = (v: string): v is ProviderId => (PROVIDER_IDS as readonly string[]).includes(v);

interface StoredRow {
  provider: string;
  enabled: number;
  config: string;
  updated_at: number;
}

export interface ProviderSettings {
  provider: ProviderId;
  enabled: boolean;
  /** Plain config (secrets opened). */
  config: Record<string, unknown>;
  updatedAt: number | null;
  /** Why the stored secrets cannot be opened (the secret key changed), or null. */
  problem: string | null;
}

async function readRow(db: Database, id: ProviderId): Promise<StoredRow | undefined> {
  return db.get<StoredRow>('SELECT * FROM payment_providers WHERE provider = ?', [id]);
}

function openConfig(secrets: SecretBox, id: ProviderId, stored: string): { config: Record<string, unknown>; problem: string | null } {
  const config = JSON.parse(stored) as Record<string, unknown>;
  try {
    for (const k of SECRET_SETTINGS[id]) if (typeof config[k] === 'string') config[k] = secrets.open(config[k] as string);
    return { config, problem: null };
  } catch {
    for (const k of SECRET_SETTINGS[id]) delete config[k];
    return { config, problem: 'stored secrets cannot be decrypted with this gateway secret key; enter them again' };
  }
}

export async function providerSettings(db: Database, secrets: SecretBox, id: ProviderId): Promise<ProviderSettings> {
  const row = await readRow(db, id);
  if (!row) return { provider: id, enabled: false, config: {}, updatedAt: null, problem: null };
  const { config, problem } = openConfig(secrets, id, row.config);
  return { provider: id, enabled: Number(row.enabled) === 1, config, updatedAt: Number(row.updated_at), problem };
}

export class ProviderConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { path: (string | number)[]; message: string }[],
  ) {
    super(message);
  }
}

/**
 * Merges `patch` into the stored config (omitted fields, secrets included, keep their value), checks
 * it (fully when the provider ends up enabled: it must build), seals the secrets and stores it.
 */
export async function saveProviderSettings(
  db: Database,
  secrets: SecretBox,
  id: ProviderId,
  patch: { enabled?: boolean; config: Record<string, unknown> },
): Promise<ProviderSettings> {
  const current = await providerSettings(db, secrets, id);
  const merged: Record<string, unknown> = { ...current.config };
  for (const [k, v] of Object.entries(patch.config)) if (v !== undefined) merged[k] = v;
  const enabled = patch.enabled ?? current.enabled;
  const schema = PROVIDER_CONFIG_SCHEMAS[id];
  const checked = (enabled ? schema.strict() : schema.partial().strict()).safeParse(merged);
  if (!checked.success) {
    // An unknown setting is named by its own path (zod reports it on the object).
    const issues = checked.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ path: [...i.path.map(String), k], message: 'unknown setting' })) : [{ path: i.path.map(String), message: i.message }],
    );
    throw new ProviderConfigError(issues.map((i) => `${i.path.join('.') || id}: ${i.message}`).join('; '), issues);
  }
  const config = checked.data as Record<string, unknown>;
  if (enabled) {
    try {
      createProvider(id, config as unknown as ProviderConfigs[typeof id]);
    } catch (err) {
      throw new ProviderConfigError((err as Error).message, [{ path: [], message: (err as Error).message }]);
    }
  }
  const sealed = { ...config };
  for (const k of SECRET_SETTINGS[id]) if (typeof sealed[k] === 'string') sealed[k] = secrets.seal(sealed[k] as string);
  const now = Date.now();
  await db.run(
    `INSERT INTO payment_providers (provider, enabled, config, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (provider) DO UPDATE SET enabled = excluded.enabled, config = excluded.config, updated_at = excluded.updated_at`,
    [id, enabled ? 1 : 0, JSON.stringify(sealed), now],
  );
  return { provider: id, enabled, config, updatedAt: now, problem: null };
}

/** The config as the admin API shows it: secrets replaced by a mask (null when not set). */
export function maskedConfig(s: ProviderSettings): Record<string, unknown> {
  const out: Record<string, unknown> = { ...s.config };
  for (const k of SECRET_SETTINGS[s.provider]) out[k] = typeof s.config[k] === 'string' && s.config[k] !== '' ? '********' : null;
  return out;
}

// Built providers, reused while their row is unchanged (the Stripe and Alipay clients are not free).
const built = new Map<string, { updatedAt: number; provider: PaymentProvider }>();

/** The enabled provider `id`, built from its stored settings; null when disabled, unset or unusable. */
export async function enabledProvider(db: Database, secrets: SecretBox, id: ProviderId): Promise<PaymentProvider | null> {
  const row = await readRow(db, id);
  if (!row || Number(row.enabled) !== 1) return null;
  const cacheKey = `${db.url}\u0000${id}`;
  const hit = built.get(cacheKey);
  if (hit && hit.updatedAt === Number(row.updated_at)) return hit.provider;
  const { config, problem } = openConfig(secrets, id, row.config);
  if (problem) return null;
  try {
    const provider = createProvider(id, config as unknown as ProviderConfigs[typeof id]);
    built.set(cacheKey, { updatedAt: Number(row.updated_at), provider });
    return provider;
  } catch {
    return null;
  }
}

/** Ids of the providers enabled now. */
export async function enabledProviderIds(db: Database): Promise<ProviderId[]> {
  const rows = await db.all<{ provider: string }>('SELECT provider FROM payment_providers WHERE enabled = 1');
  const on = new Set(rows.map((r) => r.provider));
  return PROVIDER_IDS.filter((id) => on.has(id));
}
