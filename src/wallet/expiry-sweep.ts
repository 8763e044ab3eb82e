// Pending top-up orders past their expiry become `expired`, once a minute, in-process. Idempotent
// (a conditional UPDATE), so several instances sweeping one PostgreSQL database is harmless.
import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import { expireOrders } from './orders.ts';

export function startOrderExpirySweep(db: Database, log: Logger, everyMs = 60_000): () => void {
  const sweep = () =>
    expireOrders(db)
      .then((n) => n && log.info({ expired: n }, 'expired unpaid top-up orders'))
      .catch((err) => log.error({ err }, 'expiring top-up orders failed'));
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
