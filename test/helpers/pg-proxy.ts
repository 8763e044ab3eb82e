// A TCP proxy in front of the test PostgreSQL server that can hold back the server's answer to one
// chosen query (a real network delay on one connection, used to make a cache reload finish late),
// hold back a query itself before the server sees it (a commit that has not happened yet), or cut
// every connection that sends a chosen query (a database the settlements cannot reach).
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface PgProxy {
  /** `databaseUrl` with host and port replaced by the proxy's. */
  url: string;
  /**
   * Holds back the answer to the next query whose text contains `marker`. Resolves, once the
   * server's whole answer is held (that query has run), to a function that lets it through.
   */
  holdAnswer(marker: string): Promise<() => void>;
  /**
   * Holds back the next query whose text contains `marker`, and everything its connection sends
   * after it, before the server sees any of it. Resolves, once such a query is held, to a function
   * that lets it through.
   */
  holdQuery(marker: string): Promise<() => void>;
  /** While on, every connection that sends a query containing `marker` is cut before the server sees it. */
  cutQueries(marker: string | null): void;
  /** Resolves once every query sent so far has been answered (a held answer aside). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

// The answer to one query ends with ReadyForQuery: 'Z', length 5, transaction status.
const endsWithReadyForQuery = (b: Buffer) =>
  b.length >= 6 && b[b.length - 6] === 0x5a && b.readUInt32BE(b.length - 5) === 5;

export async function startPgProxy(databaseUrl: string): Promise<PgProxy> {
  const target = new URL(databaseUrl);
  let armed: { marker: Buffer; onHeld: (release: () => void) => void } | undefined;
  let armedQuery: { marker: Buffer; onHeld: (release: () => void) => void } | undefined;
  let cutting: Buffer | null = null;
  const sockets = new Set<net.Socket>();
  const waiting = new Set<net.Socket>(); // client sockets with a query not yet answered in full

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let held: { chunks: Buffer[]; onHeld?: (release: () => void) => void } | undefined;
    const release = () => {
      const chunks = held?.chunks ?? [];
      held = undefined;
      for (const c of chunks) client.write(c);
    };
    let stalled: Buffer[] | undefined; // this connection's bytes held back before the server sees them
    client.on('data', (d: Buffer) => {
      if (cutting && d.includes(cutting)) return end();
      if (stalled) return void stalled.push(d);
      if (armedQuery && d.includes(armedQuery.marker)) {
        const { onHeld } = armedQuery;
        armedQuery = undefined;
        stalled = [d];
        onHeld(() => {
          const chunks = stalled ?? [];
          stalled = undefined;
          for (const c of chunks) upstream.write(c);
        });
        return;
      }
      if (armed && d.includes(armed.marker)) {
        held = { chunks: [], onHeld: armed.onHeld };
        armed = undefined;
        waiting.delete(client);
      }
      // A held answer is waited for by the test, not counted by idle().
      if (!held) waiting.add(client);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!held) {
        if (endsWithReadyForQuery(d)) waiting.delete(client);
        return void client.write(d);
      }
      held.chunks.push(d);
      if (held.onHeld && endsWithReadyForQuery(Buffer.concat(held.chunks))) {
        held.onHeld(release);
        held.onHeld = undefined;
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      waiting.delete(client);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    holdAnswer(marker) {
      if (armed) throw new Error('already holding an answer');
      return new Promise((onHeld) => (armed = { marker: Buffer.from(marker), onHeld }));
    },
    holdQuery(marker) {
      if (armedQuery) throw new Error('already holding a query');
      return new Promise((onHeld) => (armedQuery = { marker: Buffer.from(marker), onHeld }));
    },
    cutQueries(marker) {
      cutting = marker === null ? null : Buffer.from(marker);
    },
    async idle() {
      // A turn of the event loop first, so bytes already on their way to the proxy are read.
      do await new Promise((r) => setTimeout(r, 10));
      while (waiting.size > 0);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
