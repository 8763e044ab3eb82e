/**
 * Failed logins counted per username and per client IP over a sliding window; past the limit, logins
 * are refused until the oldest failure leaves the window. Kept in memory: per instance, reset on restart.
 */
export interface ThrottleLimits {
  perUsername: number;
  perIp: number;
  windowMs: number;
}

const DEFAULT_LIMITS: ThrottleLimits = { perUsername: 10, perIp: 50, windowMs: 15 * 60_000 };
// Bounds memory under a spray of random usernames: the oldest counters are dropped first.
const MAX_TRACKED = 50_000;

export class LoginThrottle {
  private failures = new Map<string, number[]>();

  constructor(private limits: ThrottleLimits = DEFAULT_LIMITS) {}

  /** Seconds until a login for this username from this IP may be tried again; 0 when it may now. */
  retryAfter(username: string, ip: string, now = Date.now()): number {
    const wait = (key: string, limit: number) => {
      const times = this.recent(key, now);
      return times.length >= limit ? times[times.length - limit]! + this.limits.windowMs - now : 0;
    };
    const ms = Math.max(wait(userKey(username), this.limits.perUsername), wait(`ip:${ip}`, this.limits.perIp));
    return Math.ceil(ms / 1000);
  }

  failed(username: string, ip: string, now = Date.now()): void {
    for (const key of [userKey(username), `ip:${ip}`]) {
      const times = this.recent(key, now);
      times.push(now);
      this.failures.delete(key); // re-insert: Map order then tracks the latest failure
      this.failures.set(key, times);
    }
    while (this.failures.size > MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A correct password clears the username's failures (not the IP's: one account must not unlock spraying). */
  succeeded(username: string): void {
    this.failures.delete(userKey(username));
  }

  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const fresh = times.filter((t) => t > now - this.limits.windowMs);
    if (fresh.length !== times.length) {
      if (fresh.length) this.failures.set(key, fresh);
      else this.failures.delete(key);
    }
    return fresh;
  }
}

const userKey = (username: string) => `user:${username.toLowerCase()}`;
