// One poller for the tests that wait on something the gateway does in the background.
import { setTimeout as sleep } from 'node:timers/promises';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Calls fn every 20 ms until it gives a truthy value, and returns that value; fails after timeoutMs naming what it waited for. */
export async function until<T>(fn: () => T | Promise<T>, { timeoutMs = 10_000, what = 'the condition' }: { timeoutMs?: number; what?: string } = {}): Promise<Truthy<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
