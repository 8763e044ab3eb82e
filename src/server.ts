import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Gateway } from './gateway.ts';
import { managementApp } from './http/app.ts';
import { settlementWriter } from './ledger/holds.ts';
import { handleRelay, isRelayPath } from './relay/router.ts';

export interface RunningServer {
  server: Server;
  port: number;
  /**
   * Stops accepting (the listening socket is closed before the promise is returned), lets requests in
   * flight finish (relay settlements and management requests included), then closes.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * One HTTP server: caller-facing relay paths go straight to node:http handlers (the hot path, with
 * direct control of streaming and disconnects); everything else is the Hono management app.
 */
export async function startServer(gw: Gateway, port: number, host: string): Promise<RunningServer> {
  const management = getRequestListener(managementApp(gw).fetch);
  // Every request in flight, so a shutdown waits for all of them (management requests included).
  const inFlight = new Set<Promise<unknown>>();
  const settlements = settlementWriter(gw.db);
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    if (isRelayPath(req.url ?? '/')) {
      // Until billing is done, which may be after the caller has gone.
      const p = handleRelay(gw, req, res).finally(() => inFlight.delete(p));
      inFlight.add(p);
    } else {
      // Until the answer is sent or the caller has gone.
      const p = new Promise((resolve) => res.once('close', resolve)).finally(() => inFlight.delete(p));
      inFlight.add(p);
      // A management request sees the charges of every answer this instance has sent (on PostgreSQL
      // they may still be committing: settlement-journal.ts).
      if (settlements.busy) void settlements.settled().then(() => management(req, res));
      else void management(req, res);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close(graceMs = 30_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests in flight finish and settle; past the grace period their callers are cut off, which
      // aborts the upstream calls and bills what was delivered before we exit.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      clearTimeout(timer);
      server.closeAllConnections();
      await Promise.allSettled([...inFlight]);
      await closed;
    },
  };
}
