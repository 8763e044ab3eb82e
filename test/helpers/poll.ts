// The two ways tests wait on what a gateway does in the background (settlements, retries, outbox rows,
// health probes, reloads): both poll one loop.
import { setTimeout as sleep } from 'node:timers/promises';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Calls `fn` every `intervalMs` until it stops throwing (its expects hold) and returns what it returned;
 * past `timeoutMs` its last error is thrown.
 */
export async function eventually<T>(fn: () => Promise<T> | T, { timeoutMs = 5000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(intervalMs);
    }
  }
}

/** Calls fn every 20 ms until it gives a truthy value, and returns that value; fails after timeoutMs naming what it waited for. */
export async function until<T>(fn: () => T | Promise<T>, { timeoutMs = 10_000, what = 'the condition' }: { timeoutMs?: number; what?: string } = {}): Promise<Truthy<T>> {
  return eventually(
    async () => {
      const value = await fn();
      if (!value) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return value as Truthy<T>;
    },
    { timeoutMs, intervalMs: 20 },
  );
}
