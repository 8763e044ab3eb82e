import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../db/index.ts';
import { deliverResync, TOPICS, type Bus, type BusHandler, type Topic } from './bus.ts';

const CHANNEL = 'moleapi_invalidate';
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

/**
 * Invalidation over PostgreSQL LISTEN/NOTIFY, for several instances on one database without Redis.
 * One dedicated connection listens; notifications go out through the pool after the change has
 * committed. A notification sent while the listener is disconnected is lost, so after every
 * reconnect each cache is reloaded in full.
 */
export async function postgresBus(db: Database, url: string, onError: (err: unknown) => void): Promise<Bus> {
  // Our own notifications come back too; they were applied when sent, so they are skipped.
  const origin = randomUUID();
  const handlers: BusHandler[] = [];
  let client: pg.Client | undefined;
  let closed = false;

  const deliver = (message: pg.Notification) => {
    if (message.channel !== CHANNEL || !message.payload) return;
    const m = /^([^ ]+) ([a-z]+):(.*)$/s.exec(message.payload);
    if (!m || m[1] === origin || !TOPICS.includes(m[2] as Topic)) return;
    for (const h of handlers) h(m[2] as Topic, m[3]!);
  };

  const listen = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url, keepAlive: true });
    c.on('error', onError); // a lost connection: 'end' follows and reconnects
    c.on('notification', deliver);
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    c.once('end', () => {
      if (client === c) client = undefined;
      if (!closed) void reconnect();
    });
    return c;
  };

  const reconnect = async () => {
    for (let delay = RETRY_MIN_MS; !closed; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      await new Promise((r) => setTimeout(r, delay).unref());
      if (closed) return;
      try {
        const c = await listen();
        if (closed) return void (await c.end().catch(() => undefined));
        client = c;
        deliverResync(handlers);
        return;
      } catch (err) {
        onError(err);
      }
    }
  };

  client = await listen();
  return {
    kind: 'postgres',
    async publish(topic, payload = '') {
      // Apply locally at once so the caller's next request sees it, then tell the others.
      for (const h of handlers) h(topic, payload);
      await db.run('SELECT pg_notify(?, ?)', [CHANNEL, `${origin} ${topic}:${payload}`]);
    },
    onMessage: (h) => void handlers.push(h),
    async close() {
      closed = true;
      await client?.end().catch(() => undefined);
    },
  };
}
