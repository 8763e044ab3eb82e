import { createHash, randomInt } from 'node:crypto';
import type { Database, Queryable } from '../db/index.ts';
import { keyExpiryEntry } from '../notify/index.ts';
import { enqueue } from '../outbox/index.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const KEY_RANDOM_LENGTH = 48;

export function generateKey(): string {
  let s = 'sk-';
  for (let i = 0; i < KEY_RANDOM_LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** Keys carry 285 bits of randomness, so a fast hash is enough to make the stored value useless. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function maskKey(hint: string): string {
  return `sk-${hint.slice(0, 4)}…${hint.slice(4)}`;
}

export interface ApiKey {
  id: number;
  userId: number;
  name: string;
  hint: string;
  group: string;
  enabled: boolean;
  expiresAt: number | null;
  quotaLimit: number | null;
  used: number;
  requestCount: number;
  models: string[];
  allowIps: string[];
  createdAt: number;
  lastUsedAt: number | null;
}

export function keyFromRow(r: Record<string, any>): ApiKey {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    name: r.name,
    hint: r.key_hint,
    group: r.group_name,
    enabled: Number(r.enabled) === 1,
    expiresAt: n(r.expires_at),
    quotaLimit: n(r.quota_limit),
    used: Number(r.used),
    requestCount: Number(r.request_count),
    models: JSON.parse(r.models),
    allowIps: JSON.parse(r.allow_ips),
    createdAt: Number(r.created_at),
    lastUsedAt: n(r.last_used_at),
  };
}

export interface KeyFields {
  name: string;
  group: string;
  enabled: boolean;
  expiresAt: number | null;
  quotaLimit: number | null;
  models: string[];
  allowIps: string[];
}

/**
 * A key given a future expiry gets its key-expired alert scheduled for that moment (an outbox row, in
 * the key's transaction, one per key and expiry time). A row whose key was since deleted, disabled or
 * given another expiry is dropped when it comes due.
 */
async function scheduleExpiryAlert(q: Queryable, k: ApiKey): Promise<void> {
  if (k.expiresAt === null || k.expiresAt <= Date.now()) return;
  await enqueue(q, keyExpiryEntry(k.userId, { id: k.id, name: k.name, expiresAt: k.expiresAt }));
}

export async function insertKey(db: Database, userId: number, f: KeyFields): Promise<{ key: string; row: ApiKey }> {
  const key = generateKey();
  const hint = key.slice(3, 7) + key.slice(-4);
  const row = await db.tx(async (q) => {
    const r = await q.get(
      `INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, enabled, expires_at, quota_limit, models, allow_ips, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [userId, f.name, hashKey(key), hint, f.group, f.enabled ? 1 : 0, f.expiresAt, f.quotaLimit, JSON.stringify(f.models), JSON.stringify(f.allowIps), Date.now()],
    );
    const k = keyFromRow(r!);
    await scheduleExpiryAlert(q, k);
    return k;
  });
  return { key, row };
}

export async function updateKey(db: Database, id: number, f: KeyFields): Promise<ApiKey | undefined> {
  return db.tx(async (q) => {
    const r = await q.get(
      `UPDATE api_keys SET name = ?, group_name = ?, enabled = ?, expires_at = ?, quota_limit = ?, models = ?, allow_ips = ?
       WHERE id = ? RETURNING *`,
      [f.name, f.group, f.enabled ? 1 : 0, f.expiresAt, f.quotaLimit, JSON.stringify(f.models), JSON.stringify(f.allowIps), id],
    );
    if (!r) return undefined;
    const k = keyFromRow(r);
    await scheduleExpiryAlert(q, k);
    return k;
  });
}

export async function getKey(q: Queryable, userId: number, id: number): Promise<ApiKey | undefined> {
  const r = await q.get('SELECT * FROM api_keys WHERE id = ? AND user_id = ?', [id, userId]);
  return r ? keyFromRow(r) : undefined;
}

export async function listKeys(q: Queryable, userId: number): Promise<ApiKey[]> {
  return (await q.all('SELECT * FROM api_keys WHERE user_id = ? ORDER BY id DESC', [userId])).map(keyFromRow);
}

export async function deleteKey(db: Database, userId: number, id: number): Promise<string | undefined> {
  const r = await db.get<{ key_hash: string }>('DELETE FROM api_keys WHERE id = ? AND user_id = ? RETURNING key_hash', [id, userId]);
  return r?.key_hash;
}
