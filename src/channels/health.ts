// Channel health. Each instance keeps, per channel, the outcomes of its last attempts (a sliding
// window of channelFailureWindow) and auto-disables the channel once channelFailureThreshold of
// them failed; a revoked key (401/403 from the upstream) disables it at once. The disable is a
// conditional database write followed by a `catalog` message on the bus, so every instance stops
// using the channel. A periodic probe of each auto-disabled channel (one minimal request) re-enables
// it when it answers. A 429 is not a failure: the channel waits out its retry-after at the back of
// the order instead.
import type { Logger } from 'pino';
import type { Bus } from '../lib/bus.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { Channel, ChannelRegistry } from './registry.ts';
import type { ChannelTest } from './probe.ts';

interface Window {
  outcomes: boolean[]; // true = failure, oldest first
  failures: number;
}

/** Longest retry-after honoured (a provider asking for an hour still gets tried after this). */
const MAX_COOL_MS = 5 * 60_000;
/** How often the probe timer looks whether a round is due. */
const PROBE_TICK_MS = 500;

export class ChannelHealth {
  private windows = new Map<number, Window>();
  private coolUntil = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly channels: ChannelRegistry,
    private readonly settings: SettingsStore,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  /** The channel answered (any status but a failure). */
  success(ch: Channel): void {
    this.push(ch.id, false);
  }

  /** A connect error, timeout, 5xx or a cut stream: counts toward the auto-disable. */
  failure(ch: Channel, reason: string): void {
    const w = this.push(ch.id, true);
    const { channelFailureThreshold: n, channelFailureWindow: m } = this.settings.current;
    if (n > 0 && w.failures >= Math.min(n, m)) {
      this.windows.delete(ch.id);
      void this.disable(ch, `${w.failures} of the last ${w.outcomes.length} attempts failed (last: ${reason})`);
    }
  }

  /** The upstream refused the channel's own key (401/403): disabled at once. */
  revoked(ch: Channel, status: number, message: string): void {
    void this.disable(ch, `the upstream refused the channel's key (HTTP ${status}: ${message.slice(0, 300)})`);
  }

  /** A 429: the channel goes to the back of the order until its retry-after passed. */
  rateLimited(ch: Channel, retryAfter: string | string[] | undefined): void {
    const ms = retryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    if (ms > 0) this.coolUntil.set(ch.id, Date.now() + Math.min(ms, MAX_COOL_MS));
  }

  /** The order with channels waiting out a retry-after moved to the back (still tried, last). */
  deferCooling(order: Channel[]): Channel[] {
    if (this.coolUntil.size === 0 || order.length < 2) return order;
    const ready = order.filter((c) => !this.cooling(c.id));
    return ready.length === order.length ? order : [...ready, ...order.filter((c) => this.cooling(c.id))];
  }

  /** True while the channel waits out a retry-after. */
  cooling(id: number): boolean {
    const until = this.coolUntil.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.coolUntil.delete(id);
    return false;
  }

  /** Failures among this instance's recent attempts, and how many attempts the window holds. */
  recent(id: number): { failures: number; attempts: number } {
    const w = this.windows.get(id);
    return { failures: w?.failures ?? 0, attempts: w?.outcomes.length ?? 0 };
  }

  /** Re-enables an auto-disabled channel (a probe or a test passed, or the operator enabled it). */
  async enable(ch: Channel, why: string): Promise<void> {
    this.windows.delete(ch.id);
    if (await this.channels.setStatus(ch.id, 'ok', null)) {
      this.log.info({ channelId: ch.id, channel: ch.name }, `channel "${ch.name}" re-enabled: ${why}`);
      await this.bus.publish('catalog');
    }
  }

  /** Probes the auto-disabled channels every channelProbeIntervalSeconds (a change applies at once). */
  startProbes(test: (ch: Channel) => Promise<ChannelTest>): void {
    let last = Date.now();
    let running = false;
    const round = async () => {
      for (const ch of this.channels.all) {
        if (ch.status !== 'auto_disabled' || !ch.enabled || ch.problem) continue;
        const r = await test(ch).catch(() => null);
        if (r && r.status < 400) await this.enable(ch, `probe answered HTTP ${r.status} in ${r.latency} ms`);
      }
    };
    this.timer = setInterval(() => {
      if (running || Date.now() - last < this.settings.current.channelProbeIntervalSeconds * 1000) return;
      running = true;
      round()
        .catch((err) => this.log.error({ err }, 'channel probe round failed'))
        .finally(() => {
          running = false;
          last = Date.now();
        });
    }, PROBE_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private push(id: number, failed: boolean): Window {
    let w = this.windows.get(id);
    if (!w) {
      w = { outcomes: [], failures: 0 };
      this.windows.set(id, w);
    }
    w.outcomes.push(failed);
    if (failed) w.failures++;
    const size = this.settings.current.channelFailureWindow;
    while (w.outcomes.length > size) if (w.outcomes.shift()) w.failures--;
    return w;
  }

  private async disable(ch: Channel, reason: string): Promise<void> {
    try {
      if (await this.channels.setStatus(ch.id, 'auto_disabled', reason)) {
        this.log.warn({ channelId: ch.id, channel: ch.name, reason }, `channel "${ch.name}" auto-disabled: ${reason}`);
        await this.bus.publish('catalog');
      }
    } catch (err) {
      this.log.error({ err, channelId: ch.id }, 'auto-disabling a channel failed');
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; 0 when absent or unreadable. */
export function retryAfterMs(v: string | undefined): number {
  if (!v) return 0;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}
