import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { KeyCache } from './accounts/key-cache.ts';
import { ChannelRegistry } from './channels/registry.ts';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { migrate } from './db/migrations.ts';
import { heartbeat, releaseStaleHolds } from './ledger/stale-holds.ts';
import { localBus, redisBus, type Bus } from './lib/bus.ts';
import { PricingCatalog } from './pricing/catalog.ts';
import { UpstreamPools } from './relay/pools.ts';
import { SettingsStore } from './settings/store.ts';

/** Everything a request handler needs, built once at start. */
export interface Gateway {
  config: Config;
  db: Database;
  bus: Bus;
  keys: KeyCache;
  pricing: PricingCatalog;
  channels: ChannelRegistry;
  settings: SettingsStore;
  pools: UpstreamPools;
  instanceId: string;
  log: Logger;
  close(): Promise<void>;
}

export async function createGateway(config: Config, log: Logger): Promise<Gateway> {
  const db = await openDatabase(config.DATABASE_URL);
  await migrate(db);
  const bus = config.REDIS_URL ? await redisBus(config.REDIS_URL, (err) => log.error({ err }, 'redis error')) : localBus();
  const keys = new KeyCache(db);
  const pricing = new PricingCatalog(db);
  const channels = new ChannelRegistry(db);
  const settings = new SettingsStore(db);
  await Promise.all([pricing.reload(), channels.reload(), settings.reload()]);

  bus.onMessage((topic, payload) => {
    const reload = (p: Promise<void>) => p.catch((err) => log.error({ err, topic }, 'cache reload failed'));
    if (topic === 'keys') keys.invalidate(payload || undefined);
    else if (topic === 'catalog') reload(Promise.all([pricing.reload(), channels.reload()]).then(() => undefined));
    else if (topic === 'settings') reload(settings.reload());
  });

  const instanceId = randomUUID();
  await heartbeat(db, instanceId);
  // SQLite is one process: every hold found at start was left by a crash. On PostgreSQL other live
  // instances may own holds, so only those of instances that stopped heart-beating are released.
  const released = await releaseStaleHolds(db, instanceId, db.dialect === 'sqlite');
  if (released) log.warn({ released }, 'released holds left by a stopped process');
  const timer = setInterval(() => {
    heartbeat(db, instanceId)
      .then(() => releaseStaleHolds(db, instanceId, false))
      .catch((err) => log.error({ err }, 'heartbeat failed'));
  }, 15_000);
  timer.unref();

  const pools = new UpstreamPools();

  return {
    config,
    db,
    bus,
    keys,
    pricing,
    channels,
    settings,
    pools,
    instanceId,
    log,
    async close() {
      clearInterval(timer);
      await pools.close();
      await bus.close();
      await db.run('DELETE FROM instances WHERE id = ?', [instanceId]).catch(() => undefined);
      await db.close();
    },
  };
}
