import type { Channel } from '../channels/registry.ts';
import type { Gateway } from '../gateway.ts';
import { settle } from '../ledger/holds.ts';
import type { UsageLogRow } from '../logs/usage-log.ts';
import { costOf, type Price, type TokenUsage } from '../pricing/cost.ts';
import type { SpendCeiling } from './spend-ceiling.ts';

/** What the log row needs from the request, plus its price and start time. */
export interface BillContext extends Pick<UsageLogRow, 'requestId' | 'userId' | 'keyId' | 'keyName' | 'model' | 'group' | 'stream' | 'createdAt'> {
  price: Price;
  multiplier: bigint;
  startedAt: number;
}

const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };

/**
 * The closing half of a held request: exactly one of charge() or release() takes effect, whichever
 * path (success, upstream failure, client gone) gets there first.
 */
export class RequestBill {
  channel: Channel | null = null;
  firstTokenMs: number | null = null;
  /** The most a stream may cost (hold + the room left after it), metered in memory; null: unmetered. */
  spend: SpendCeiling | null = null;
  private closed = false;

  constructor(
    private gw: Gateway,
    readonly ctx: BillContext,
  ) {}

  /** Charges the real cost of what was delivered and writes the log row; returns the cost. */
  async charge(usage: TokenUsage, o: { estimated: boolean; status: number; error?: string | null }): Promise<number> {
    const cost = costOf(this.ctx.price, this.ctx.multiplier, usage);
    await this.close(cost, usage, o.estimated, o.status, o.error ?? null);
    return cost;
  }

  /** The upstream sent usage we refuse to bill (it is estimated instead): say which channel did. */
  warnInvalidUsage(reason: string): void {
    this.gw.log.warn(
      { requestId: this.ctx.requestId, channelId: this.channel?.id, channel: this.channel?.name, model: this.ctx.model, reason },
      `channel "${this.channel?.name}" sent unusable usage (${reason}); the request is billed on an estimate`,
    );
  }

  /** The chosen channel failed after its first byte (a cut or a stall): counts toward its auto-disable. */
  upstreamFailed(reason: string): void {
    if (this.channel) this.gw.health.failure(this.channel, reason);
  }

  /** Releases the hold, charging nothing; the log row records why. */
  release(status: number, error: string): Promise<void> {
    return this.close(0, NO_USAGE, false, status, error);
  }

  private async close(cost: number, usage: TokenUsage, estimated: boolean, status: number, error: string | null): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.ctx;
    const log: UsageLogRow = {
      requestId: c.requestId,
      userId: c.userId,
      keyId: c.keyId,
      keyName: c.keyName,
      model: c.model,
      group: c.group,
      channelId: this.channel?.id ?? null,
      channelName: this.channel?.name ?? null,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      cachedTokens: usage.cachedTokens,
      cost,
      durationMs: Math.round(performance.now() - c.startedAt),
      firstTokenMs: this.firstTokenMs,
      stream: c.stream,
      status,
      estimated,
      error,
      createdAt: c.createdAt,
    };
    try {
      await settle(this.gw.db, { holdId: c.requestId, userId: c.userId, keyId: c.keyId, cost, log });
    } catch (err) {
      // The writer keeps the charge (and its hold) and retries it; the caller still gets the answer.
      this.gw.log.error({ err, requestId: c.requestId, cost }, 'settlement not committed yet; it is retried');
    }
  }
}
