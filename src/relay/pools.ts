import { Pool } from 'undici';

/**
 * One keep-alive connection pool per upstream origin. A pool is what undici's Agent keeps per origin
 * too; holding them ourselves skips the Agent's per-request origin lookup on the hot path.
 */
export class UpstreamPools {
  private pools = new Map<string, Pool>();

  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
