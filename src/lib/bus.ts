export type Topic = 'keys' | 'catalog' | 'settings' | 'alerts';
export const TOPICS: readonly Topic[] = ['keys', 'catalog', 'settings', 'alerts'];
export type BusHandler = (topic: Topic, payload: string) => void;

/**
 * Tells every gateway instance that cached data changed. Without Redis or PostgreSQL only this
 * process hears it; with REDIS_URL (or, without it, PostgreSQL LISTEN/NOTIFY) every instance on the
 * same database does. The sender always applies its own message at once.
 */
export interface Bus {
  readonly kind: 'local' | 'redis' | 'postgres';
  publish(topic: Topic, payload?: string): Promise<void>;
  onMessage(handler: BusHandler): void;
  close(): Promise<void>;
}

/** Every topic with an empty payload: reload everything (after a gap in which messages may have been lost). */
export function deliverResync(handlers: readonly BusHandler[]): void {
  for (const topic of TOPICS) for (const h of handlers) h(topic, '');
}

export function localBus(): Bus {
  const handlers: BusHandler[] = [];
  return {
    kind: 'local',
    async publish(topic, payload = '') {
      for (const h of handlers) h(topic, payload);
    },
    onMessage: (h) => void handlers.push(h),
    async close() {},
  };
}

const CHANNEL = 'moleapi:invalidate';

export async function redisBus(url: string, onError: (err: unknown) => void): Promise<Bus> {
  // Loaded only when configured: the client is sizeable and most single-instance setups never need it.
  const { createClient } = await import('redis');
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on('error', onError);
  sub.on('error', onError);
  await Promise.all([pub.connect(), sub.connect()]);
  const handlers: BusHandler[] = [];
  await sub.subscribe(CHANNEL, (message) => {
    const i = message.indexOf(':');
    const topic = message.slice(0, i) as Topic;
    for (const h of handlers) h(topic, message.slice(i + 1));
  });
  // The client reconnects and resubscribes by itself, but messages sent meanwhile are lost.
  sub.on('ready', () => deliverResync(handlers));
  return {
    kind: 'redis',
    async publish(topic, payload = '') {
      // Apply locally at once so the caller's next request sees it, then tell the others.
      for (const h of handlers) h(topic, payload);
      await pub.publish(CHANNEL, `${topic}:${payload}`);
    },
    onMessage: (h) => void handlers.push(h),
    async close() {
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
