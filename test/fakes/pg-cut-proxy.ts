// A TCP proxy in front of PostgreSQL that can make a COMMIT ambiguous for real: armed, it forwards the
// COMMIT of the next transaction that inserted into a chosen table, lets the server commit it, and then
// cuts the connection before the answer reaches the client. The driver reports an error; the data is
// committed.
import net from 'node:net';

export interface CutProxy {
  url: string;
  /** Cut the connection after the next COMMIT of a transaction whose SQL mentioned `marker`. */
  armFor(marker: string): void;
  /** How many commits were cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startCutProxy(databaseUrl: string): Promise<CutProxy> {
  const target = new URL(databaseUrl);
  let armed: string | null = null;
  let cuts = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    let pending = Buffer.alloc(0);
    let started = false; // the untyped startup message has gone by
    let sawMarker = false;
    let cutOnReply = false;

    // Frames from the client: 1 type byte + int32 length (which counts itself), after the startup message.
    client.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (!started) {
          if (pending.length < 4) break;
          const len = pending.readInt32BE(0);
          if (pending.length < len) break;
          pending = pending.subarray(len);
          started = true;
          continue;
        }
        if (pending.length < 5) break;
        const len = pending.readInt32BE(1);
        if (pending.length < len + 1) break;
        const type = String.fromCharCode(pending[0]!);
        const text = pending.subarray(5, len + 1).toString('utf8');
        pending = pending.subarray(len + 1);
        if (armed && (type === 'P' || type === 'Q') && text.includes(armed)) sawMarker = true;
        if (armed && sawMarker && type === 'Q' && /^COMMIT\b/i.test(text)) {
          armed = null;
          cutOnReply = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!cutOnReply) return void client.write(chunk);
      // The server answered the COMMIT (CommandComplete + ReadyForQuery): it is durable. Cut.
      cuts++;
      client.destroy();
      upstream.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    armFor(marker) {
      armed = marker;
    },
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
