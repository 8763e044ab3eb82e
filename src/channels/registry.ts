import type { Database } from '../db/index.ts';
import { ReloadOrder } from '../lib/reload-order.ts';
import { SecretBox } from '../lib/secret-box.ts';

import { parseStoredConfig, type ChannelConfig } from '../providers/config.ts';
import { CHANNEL_TYPES, PROVIDERS, type ChannelType, type Provider } from '../providers/index.ts';
import { KeyRotation } from './key-rotation.ts';

export { CHANNEL_TYPES, type ChannelType };

/** The provider entry of a channel's type. */
export const providerOf = (ch: Channel): Provider => PROVIDERS[ch.type];

export interface Channel {
  id: number;
  name: string;
  type: ChannelType;
  baseUrl: string;
  /** The upstream key(s): one per line, used in rotation (vertex: one service-account JSON). */
  apiKey: string;
  /** Type-specific settings and extra headers (sealed at rest like the key). */
  config: ChannelConfig;
  models: string[];
  groups: string[];
  priority: number;
  weight: number;
  modelMapping: Record<string, string>;
  enabled: boolean;
  /** Why the channel cannot be used although enabled (its stored key cannot be decrypted), else null. */
  problem: string | null;
  /** The gateway's own verdict (channels/health.ts): 'auto_disabled' takes it out of traffic until a probe passes. */
  status: ChannelStatus;
  /** Why it was auto-disabled (the failures or the upstream's refusal), else null. */
  statusReason: string | null;
  /** When the status last changed (ms), else null. */
  statusAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type ChannelStatus = 'ok' | 'auto_disabled';

export type ChannelInput = Omit<Channel, 'id' | 'createdAt' | 'updatedAt' | 'problem' | 'status' | 'statusReason' | 'statusAt'>;

/** Enabled, with a readable key and not auto-disabled: may receive traffic. */
export const usable = (ch: Channel) => ch.enabled && ch.problem === null && ch.status === 'ok';

const UNREADABLE_KEY =
  "its stored upstream key cannot be decrypted with this gateway's secret key (MOLEAPI_SECRET_KEY or DATA_DIR/secret.key differs from the one it was saved with): restore that key, or enter the upstream key again";

const UNREADABLE_CONFIG =
  "its stored config (extra headers, type settings) cannot be decrypted with this gateway's secret key (MOLEAPI_SECRET_KEY or DATA_DIR/secret.key differs from the one it was saved with): restore that key, or enter the config again";

/** An empty config is stored as is; any other is sealed (header values may be secrets). */
const sealConfig = (box: SecretBox, config: ChannelConfig) => (Object.keys(config).length ? box.seal(JSON.stringify(config)) : '{}');

function fromRow(r: Record<string, any>, box: SecretBox): Channel {
  let apiKey = '';
  let config: ChannelConfig = {};
  let problem: string | null = null;
  try {
    apiKey = box.open(r.api_key);
  } catch {
    problem = UNREADABLE_KEY;
  }
  try {
    config = parseStoredConfig(box.open(r.config));
  } catch {
    problem ??= UNREADABLE_CONFIG;
  }
  return {
    id: Number(r.id),
    name: r.name,
    type: r.type,
    baseUrl: r.base_url,
    apiKey,
    config,
    problem,
    models: JSON.parse(r.models),
    groups: JSON.parse(r.groups),
    priority: Number(r.priority),
    weight: Number(r.weight),
    modelMapping: JSON.parse(r.model_mapping),
    enabled: Number(r.enabled) === 1,
    status: r.status === 'auto_disabled' ? 'auto_disabled' : 'ok',
    statusReason: r.status_reason ?? null,
    statusAt: r.status_at == null ? null : Number(r.status_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Channels in memory, indexed by group and model, for the hot path; reloaded on every admin change. */
export class ChannelRegistry {
  all: Channel[] = [];
  /** Which of a channel's keys the next call uses. */
  readonly rotation = new KeyRotation();
  private byGroupModel = new Map<string, Channel[]>();

  // The keys as stored (sealed), so an update that leaves the key alone never rewrites it.
  private storedKeys = new Map<number, string>();
  private storedConfigs = new Map<number, string>();
  private order = new ReloadOrder();

  constructor(
    private db: Database,
    private box: SecretBox,
  ) {}

  async reload(): Promise<void> {
    const ticket = this.order.begin();
    const rows = await this.db.all('SELECT * FROM channels ORDER BY id');
    const all = rows.map((r) => fromRow(r, this.box));
    const index = new Map<string, Channel[]>();
    for (const ch of all) {
      for (const g of ch.groups) {
        for (const m of ch.models) {
          const k = `${g}\u0000${m}`;
          const list = index.get(k) ?? [];
          list.push(ch);
          index.set(k, list);
        }
      }
    }
    // A reload that started later may already have applied a newer read (reloads can finish out of order).
    if (!this.order.mayApply(ticket)) return;
    this.all = all;
    this.storedKeys = new Map(rows.map((r) => [Number(r.id), String(r.api_key)]));
    this.storedConfigs = new Map(rows.map((r) => [Number(r.id), String(r.config)]));
    this.byGroupModel = index;
  }

  /** Every channel configured for the model in the group, enabled or not. */
  serving(group: string, model: string): Channel[] {
    return this.byGroupModel.get(`${group}\u0000${model}`) ?? [];
  }

  /** Models with at least one enabled channel in the group. */
  modelsIn(group: string): string[] {
    const set = new Set<string>();
    for (const ch of this.all) if (usable(ch) && ch.groups.includes(group)) for (const m of ch.models) set.add(m);
    return [...set].sort();
  }

  get(id: number): Channel | undefined {
    return this.all.find((c) => c.id === id);
  }

  async create(c: ChannelInput): Promise<number> {
    const now = Date.now();
    const row = await this.db.get<{ id: number }>(
      `INSERT INTO channels (name, type, base_url, api_key, config, models, groups, priority, weight, model_mapping, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [c.name, c.type, c.baseUrl, this.box.seal(c.apiKey), sealConfig(this.box, c.config), JSON.stringify(c.models), JSON.stringify(c.groups), c.priority, c.weight, JSON.stringify(c.modelMapping), c.enabled ? 1 : 0, now, now],
    );
    await this.reload();
    return Number(row!.id);
  }

  async update(id: number, c: ChannelInput): Promise<void> {
    const stored = this.storedKeys.get(id);
    const unchanged = stored !== undefined && c.apiKey === this.get(id)?.apiKey && SecretBox.isSealed(stored);
    // The same config object: left alone (it may be unreadable with this gateway's secret, like the key).
    const storedConfig = this.storedConfigs.get(id);
    const configKept = storedConfig !== undefined && c.config === this.get(id)?.config;
    await this.db.run(
      `UPDATE channels SET name = ?, type = ?, base_url = ?, api_key = ?, config = ?, models = ?, groups = ?, priority = ?, weight = ?,
         model_mapping = ?, enabled = ?, updated_at = ? WHERE id = ?`,
      [c.name, c.type, c.baseUrl, unchanged ? stored : this.box.seal(c.apiKey), configKept ? storedConfig : sealConfig(this.box, c.config), JSON.stringify(c.models), JSON.stringify(c.groups), c.priority, c.weight, JSON.stringify(c.modelMapping), c.enabled ? 1 : 0, Date.now(), id],
    );
    await this.reload();
  }

  /**
   * Moves a channel between 'ok' and 'auto_disabled' (only from the other state, so instances racing
   * to do the same write it once); reloads and returns true when this call changed it.
   */
  async setStatus(id: number, status: ChannelStatus, reason: string | null): Promise<boolean> {
    const from: ChannelStatus = status === 'ok' ? 'auto_disabled' : 'ok';
    const r = await this.db.run('UPDATE channels SET status = ?, status_reason = ?, status_at = ? WHERE id = ? AND status = ?', [status, reason, Date.now(), id, from]);
    if (r.changes > 0) await this.reload();
    return r.changes > 0;
  }

  /** Seals keys stored in plain text by a version before sealing existed; returns how many. */
  async sealPlaintextKeys(): Promise<number> {
    let sealed = 0;
    for (const [id, stored] of this.storedKeys) {
      if (SecretBox.isSealed(stored)) continue;
      const r = await this.db.run('UPDATE channels SET api_key = ? WHERE id = ? AND api_key = ?', [this.box.seal(stored), id, stored]);
      sealed += r.changes;
    }
    if (sealed) await this.reload();
    return sealed;
  }

  async remove(id: number): Promise<boolean> {
    const r = await this.db.run('DELETE FROM channels WHERE id = ?', [id]);
    await this.reload();
    return r.changes > 0;
  }
}

/**
 * Order in which to try channels: highest priority first; within one priority, a weighted random
 * shuffle so traffic splits by weight.
 */
export function orderForAttempts(channels: Channel[], random: () => number = Math.random): Channel[] {
  if (channels.length === 1) return usable(channels[0]!) ? channels : [];
  const enabled = channels.filter(usable);
  const priorities = [...new Set(enabled.map((c) => c.priority))].sort((a, b) => b - a);
  const out: Channel[] = [];
  for (const p of priorities) {
    const pool = enabled.filter((c) => c.priority === p);
    while (pool.length) {
      const total = pool.reduce((s, c) => s + Math.max(c.weight, 0) + 1e-9, 0);
      let r = random() * total;
      let i = 0;
      for (; i < pool.length - 1; i++) {
        r -= Math.max(pool[i]!.weight, 0) + 1e-9;
        if (r < 0) break;
      }
      out.push(pool.splice(i, 1)[0]!);
    }
  }
  return out;
}

const urlCache = new Map<string, { origin: string; path: string }>();

/**
 * The upstream origin and path for an endpoint path: a bare origin gets `bareOriginPrefix` (/v1 for
 * OpenAI-style bases), a base with a path is used as is. The base's query is kept.
 */
export function upstreamUrl(baseUrl: string, path: string, bareOriginPrefix = '/v1'): { origin: string; path: string } {
  const cacheKey = `${baseUrl} ${path} ${bareOriginPrefix}`;
  let hit = urlCache.get(cacheKey);
  if (!hit) {
    const base = new URL(baseUrl);
    const prefix = base.pathname.replace(/\/+$/, '');
    const search = base.search && path.includes('?') ? `&${base.search.slice(1)}` : base.search;
    hit = { origin: base.origin, path: `${prefix === '' ? bareOriginPrefix : prefix}${path}${search}` };
    if (urlCache.size > 10_000) urlCache.clear();
    urlCache.set(cacheKey, hit);
  }
  return hit;
}
