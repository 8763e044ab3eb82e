import type { Database } from '../db/index.ts';
import { ipMatcher } from '../lib/ip.ts';
import { hashKey, keyFromRow, type ApiKey } from './keys.ts';

/** What the relay needs to authorize a call, resolved from the key's hash without touching the DB. */
export interface KeyAuth {
  key: ApiKey;
  keyHash: string;
  userId: number;
  userEnabled: boolean;
  allowModel: (model: string) => boolean;
  allowIp: (ip: string) => boolean;
  loadedAt: number;
}

// Entries live this long even without an invalidation message, so a missed one cannot last.
const TTL_MS = 30_000;
const MISS = Symbol('miss');

export class KeyCache {
  // Keyed by the raw key so a hit costs no hashing; `byHash` finds entries to drop on invalidation.
  private entries = new Map<string, KeyAuth | typeof MISS>();
  private byHash = new Map<string, string>();
  // Bumped by every invalidation: a lookup whose read started before one must not cache what it read.
  private generation = 0;

  constructor(private db: Database) {}

  async lookup(rawKey: string): Promise<KeyAuth | undefined> {
    const hit = this.entries.get(rawKey);
    const now = Date.now();
    if (hit !== undefined) {
      // Unknown keys are cached briefly too, so a flood of bad keys cannot hammer the DB.
      if (hit === MISS) return undefined;
      if (now - hit.loadedAt < TTL_MS) return hit;
    }
    if (this.entries.size > 100_000) this.invalidate();
    const generation = this.generation;
    const keyHash = hashKey(rawKey);
    const r = await this.db.get(
      'SELECT k.*, u.enabled AS user_enabled FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?',
      [keyHash],
    );
    const current = generation === this.generation;
    if (!r) {
      if (!current) return undefined;
      this.entries.set(rawKey, MISS);
      setTimeout(() => this.entries.get(rawKey) === MISS && this.entries.delete(rawKey), 5_000).unref();
      return undefined;
    }
    const key = keyFromRow(r);
    const models = new Set(key.models);
    const auth: KeyAuth = {
      key,
      keyHash,
      userId: key.userId,
      userEnabled: Number(r.user_enabled) === 1,
      allowModel: models.size === 0 ? () => true : (m) => models.has(m),
      allowIp: ipMatcher(key.allowIps),
      loadedAt: now,
    };
    // Answered with what was read, but kept only if no invalidation arrived while reading.
    if (current) {
      this.entries.set(rawKey, auth);
      this.byHash.set(keyHash, rawKey);
    }
    return auth;
  }

  /** Drops one key (by hash) or, with no argument, everything (user-level changes). */
  invalidate(keyHash?: string): void {
    this.generation++;
    if (keyHash === undefined) {
      this.entries.clear();
      this.byHash.clear();
      return;
    }
    const raw = this.byHash.get(keyHash);
    if (raw === undefined) return;
    this.byHash.delete(keyHash);
    this.entries.delete(raw);
  }
}
