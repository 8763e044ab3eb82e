import { Pool } from 'undici';

/**
 * One keep-alive connection pool per upstream origin (holding them ourselves skips undici's Agent
 * lookup per request). Connections per origin are unbounded unless a limit is configured; a request
 * over the limit is refused at once (take() returns false) instead of waiting silently in a queue.
 */
export class UpstreamPools {
  private pools = new Map<string, Pool>();
  private inFlight = new Map<string, number>();

  /** limit: most requests (= connections, no pipelining) in flight per origin; 0 = unbounded. */
  /** connectTimeoutMs: longest wait for a TCP (and TLS) connection to an upstream. */
  constructor(
    readonly limit = 0,
    private readonly connectTimeoutMs = 10_000,
  ) {}

  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      // connections: null = no cap in undici; with a limit, take() keeps us at or under it so the pool never queues.
      pool = new Pool(origin, { connections: this.limit > 0 ? this.limit : null, keepAliveTimeout: 30_000, pipelining: 1, connect: { timeout: this.connectTimeoutMs } });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Reserves a request slot on the origin; false when the limit is reached. Pair with give(). */
  take(origin: string): boolean {
    const n = this.inFlight.get(origin) ?? 0;
    if (this.limit > 0 && n >= this.limit) return false;
    this.inFlight.set(origin, n + 1);
    return true;
  }

  give(origin: string): void {
    const n = (this.inFlight.get(origin) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(origin);
    else this.inFlight.set(origin, n);
  }

  /** Requests in flight to the origin (for tests and diagnostics). */
  busy(origin: string): number {
    return this.inFlight.get(origin) ?? 0;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
