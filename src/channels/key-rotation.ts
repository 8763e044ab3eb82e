// A channel may hold several upstream keys (one per line). Calls take them in turn; a key the
// upstream rejects (401/403) is skipped for a while, so one revoked key does not fail every
// n-th request. Channel-level health (disabling a channel whose every key fails) is not this
// module's job: reject() only says whether the channel still has a usable key.
import { PROVIDERS } from '../providers/index.ts';
import type { Channel } from './registry.ts';

/** How long a rejected key is skipped before it is tried again (it may have been restored). */
export const REJECTED_FOR_MS = 10 * 60_000;

const split = new WeakMap<Channel, string[]>();

/** The channel's upstream keys: one per non-empty line, or the whole text for a one-secret type (vertex). */
export function keysOf(ch: Channel): string[] {
  let keys = split.get(ch);
  if (!keys) {
    keys = PROVIDERS[ch.type].wholeKey ? [ch.apiKey] : ch.apiKey.split(/\r?\n/).map((k) => k.trim()).filter(Boolean);
    split.set(ch, keys);
  }
  return keys;
}

export class KeyRotation {
  private turns = new Map<number, number>();
  /** Channel id → key → when its rejection ends. */
  private rejected = new Map<number, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The key for the channel's next call: the next in turn that is not rejected (all rejected: the next in turn). */
  pick(ch: Channel): string {
    const keys = keysOf(ch);
    if (keys.length <= 1) return keys[0] ?? '';
    const turn = this.turns.get(ch.id) ?? 0;
    this.turns.set(ch.id, (turn + 1) % keys.length);
    const rejected = this.rejected.get(ch.id);
    if (rejected) {
      const now = this.now();
      for (let i = 0; i < keys.length; i++) {
        const k = keys[(turn + i) % keys.length]!;
        const until = rejected.get(k);
        if (until === undefined || until <= now) return k;
      }
    }
    return keys[turn % keys.length]!;
  }

  /** Marks `key` rejected by the upstream; returns whether the channel has another key not rejected. */
  reject(ch: Channel, key: string): boolean {
    const keys = keysOf(ch);
    if (keys.length <= 1) return false;
    let rejected = this.rejected.get(ch.id);
    if (!rejected) this.rejected.set(ch.id, (rejected = new Map()));
    const now = this.now();
    for (const [k, until] of rejected) if (until <= now || !keys.includes(k)) rejected.delete(k);
    rejected.set(key, now + REJECTED_FOR_MS);
    return keys.some((k) => !rejected.has(k));
  }
}
