
export type Topic = 'keys' | 'catalog' | 'settings';
type Handler = (topic: Topic, payload: string) => void;

/**
 * Tells every gateway instance that cached data changed. Without Redis only this process hears it;
 * with REDIS_URL every instance subscribed to the channel does (including the sender).
 */
export interface Bus {
  publish(topic: Topic, payload?: string): Promise<void>;
  onMessage(handler: Handler): void;
  close(): Promise<void>;
}

export function localBus(): Bus {
  const handlers: Handler[] = [];
  return {
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
  const handlers: Handler[] = [];
  await sub.subscribe(CHANNEL, (message) => {
    const i = message.indexOf(':');
    const topic = message.slice(0, i) as Topic;
    for (const h of handlers) h(topic, message.slice(i + 1));
  });
  return {
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
