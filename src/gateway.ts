import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { KeyCache } from './accounts/key-cache.ts';
import { LoginThrottle } from './accounts/login-throttle.ts';
import { purgeExpiredSessions } from './accounts/sessions.ts';
import { ChannelHealth } from './channels/health.ts';
import { testChannel } from './channels/probe.ts';
import { ChannelRegistry } from './channels/registry.ts';
import { dataDir, type Config } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { migrate } from './db/migrations.ts';
import { settlementWriter } from './ledger/holds.ts';
import { heartbeat, releaseStaleHolds } from './ledger/stale-holds.ts';
import { SettlementJournal, takeStoppedJournals } from './ledger/settlement-journal.ts';
import { keepUnsettled, replayUnsettled } from './ledger/unsettled-file.ts';
import { localBus, redisBus, type Bus } from './lib/bus.ts';
import { loadSecretKey, SecretBox } from './lib/secret-box.ts';
import { PricingCatalog } from './pricing/catalog.ts';
import { UpstreamPools } from './relay/pools.ts';
import { SettingsStore } from './settings/store.ts';
import { startOutboxWorker, type OutboxWorker } from './outbox/index.ts';
import { gatewayOutboxHandlers } from './wallet/notify-wiring.ts';
import { AlertThresholds, registerAlertThresholds } from './wallet/alert-thresholds.ts';
import { settlementAlerts } from './wallet/settlement-alerts.ts';

/** Everything a request handler needs, built once at start. */
export interface Gateway {
  config: Config;
  db: Database;
  bus: Bus;
  keys: KeyCache;
  pricing: PricingCatalog;
  channels: ChannelRegistry;
  /** Failure windows, auto-disable and the probes that re-enable (channels/health.ts). */
  health: ChannelHealth;
  settings: SettingsStore;
  pools: UpstreamPools;
  loginThrottle: LoginThrottle;
  /** Seals stored secrets (channel keys, payment provider keys) with MOLEAPI_SECRET_KEY. */
  secrets: SecretBox;
  /** Runs outbox rows (emails, alerts) off the request path; kick() after committing an enqueue. */
  outbox: OutboxWorker;
  instanceId: string;
  log: Logger;
  close(): Promise<void>;
}

export async function createGateway(config: Config, log: Logger): Promise<Gateway> {
  const db = await openDatabase(config.DATABASE_URL, { exclusive: true });
  await migrate(db);
  const bus = await openBus(config, db, log);
  const keys = new KeyCache(db);
  const pricing = new PricingCatalog(db);
  const secret = loadSecretKey(config.MOLEAPI_SECRET_KEY, dataDir(config));
  if (secret.source === 'file' && db.dialect === 'postgres') {
    log.warn('MOLEAPI_SECRET_KEY is not set: channel keys are sealed with DATA_DIR/secret.key; every instance sharing this database needs the same key');
  }
  const secrets = new SecretBox(secret.key);
  const channels = new ChannelRegistry(db, secrets);
  const settings = new SettingsStore(db);
  // Balance-alert thresholds in memory: the settlement judges crossings without a query.
  const thresholds = new AlertThresholds(db);
  registerAlertThresholds(db, thresholds);
  // Listening before the first load, so a change committed while it runs is not missed.
  bus.onMessage((topic, payload) => {
    const reload = (p: Promise<void>) => p.catch((err) => log.error({ err, topic }, 'cache reload failed'));
    if (topic === 'keys') keys.invalidate(payload || undefined);
    else if (topic === 'catalog') reload(Promise.all([pricing.reload(), channels.reload()]).then(() => undefined));
    else if (topic === 'settings') reload(settings.reload());
    else if (topic === 'alerts') reload(payload ? thresholds.reloadUser(Number(payload)) : thresholds.reloadAll());
  });
  await Promise.all([pricing.reload(), channels.reload(), settings.reload(), thresholds.reloadAll()]);
  const sealed = await channels.sealPlaintextKeys();
  if (sealed) log.info({ sealed }, 'sealed channel keys that were stored in plain text');
  for (const ch of channels.all) if (ch.problem) log.error({ channel: ch.id, name: ch.name }, `channel unusable: ${ch.problem}`);

  // Charges a previous run could not commit before it stopped are applied before serving: those it
  // kept at shutdown, and the settlement journals of stopped instances (a crash) on this DATA_DIR.
  const unsettledFile = join(dataDir(config), 'unsettled.jsonl');
  const journals = takeStoppedJournals(dataDir(config), unsettledFile);
  if (journals) log.warn({ journals }, 'replaying the settlement journals of stopped instances');
  const replay = await replayUnsettled(db, unsettledFile);
  if (replay.applied || replay.skipped) log.warn({ ...replay, error: undefined }, 'applied charges kept from the previous run');
  if (replay.failed) log.error({ err: replay.error, failed: replay.failed, file: unsettledFile }, 'charges kept from the previous run still refused; kept for the next start');
  if (replay.unreadable) log.error({ lines: replay.unreadable, file: `${unsettledFile}.unreadable` }, 'unreadable lines in the owed-charges file');

  const instanceId = randomUUID();
  // PostgreSQL: a settlement is answered once journaled, and committed right after (see the module).
  const journal = db.dialect === 'postgres' && config.SETTLEMENT_JOURNAL ? openJournal(dataDir(config), instanceId, log) : undefined;
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
  const purge = () => purgeExpiredSessions(db).catch((err) => log.error({ err }, 'purging expired sessions failed'));
  await purge();
  const purgeTimer = setInterval(purge, 60 * 60_000);
  purgeTimer.unref();
  const outbox = startOutboxWorker(db, gatewayOutboxHandlers({ db, secrets, settings }), log);

  const settlements = settlementWriter(db);
  settlements.onRetryFailed = (owed, err) => log.error({ err, owed }, 'database still refuses settlements; retrying');
  // Balance and key-limit alerts, judged from the balances each settlement returns (no added query).
  settlements.effects = settlementAlerts(thresholds);
  settlements.onEnqueued = () => outbox.kick();
  settlements.onEffectsFailed = (err) => log.error({ err }, 'alerts of a committed settlement could not be enqueued');
  settlements.onJournalFailed = (err) => log.error({ err }, 'settlement journal failed (a failed write: that answer waits for its commit)');
  if (journal) settlements.useJournal(journal);

  const pools = new UpstreamPools(config.UPSTREAM_MAX_CONNECTIONS, config.UPSTREAM_CONNECT_TIMEOUT_MS);
  const health = new ChannelHealth(channels, settings, bus, log);
  health.startProbes((ch) => testChannel(ch, pools, config));

  return {
    config,
    db,
    bus,
    keys,
    pricing,
    channels,
    health,
    settings,
    pools,
    loginThrottle: new LoginThrottle(),
    secrets,
    outbox,
    instanceId,
    log,
    async close() {
      clearInterval(timer);
      clearInterval(purgeTimer);
      health.stop();
      // Before the database closes: runs in progress record their result first.
      await outbox.stop();
      await pools.close();
      await bus.close();
      const owed = await settlements.close();
      let keepJournal = false;
      if (owed.length) {
        try {
          keepUnsettled(unsettledFile, owed);
          log.error({ owed: owed.length, file: unsettledFile }, 'charges the database refused are kept on disk and applied at the next start');
        } catch (err) {
          // Last resort: the journal (if any) stays for the next start, and the log line carries every
          // owed settlement, so an operator can still apply them.
          keepJournal = true;
          log.fatal({ err, settlements: owed }, 'owed charges could be neither committed nor written to disk');
        }
      }
      // Everything in the journal has committed or is in the owed-charges file now.
      journal?.close({ keep: keepJournal });
      await db.run('DELETE FROM instances WHERE id = ?', [instanceId]).catch(() => undefined);
      await db.close();
    },
  };
}

/** The settlement journal; without one (DATA_DIR not writable) every answer waits for its commit, which is slower but as safe. */
function openJournal(dir: string, instanceId: string, log: Logger): SettlementJournal | undefined {
  try {
    return SettlementJournal.open(dir, instanceId);
  } catch (err) {
    log.error({ err, dataDir: dir }, 'cannot write the settlement journal in DATA_DIR; every answer waits for its settlement to commit');
    return undefined;
  }
}

/** Redis when configured; otherwise PostgreSQL's LISTEN/NOTIFY; on SQLite (one process) a local bus. */
async function openBus(config: Config, db: Database, log: Logger): Promise<Bus> {
  if (config.REDIS_URL) return redisBus(config.REDIS_URL, (err) => log.error({ err }, 'redis error'));
  if (db.dialect === 'postgres') {
    // Loaded only here: it pulls in the pg driver, which a SQLite gateway never uses.
    const { postgresBus } = await import('./lib/postgres-bus.ts');
    return postgresBus(db, config.DATABASE_URL, (err) => log.error({ err }, 'invalidation listener (LISTEN/NOTIFY) error; reconnecting'));
  }
  return localBus();
}
