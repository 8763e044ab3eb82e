// A TCP proxy in front of PostgreSQL that can make a commit ambiguous for real: armed, it lets the
// server commit the transaction of the next statement mentioning a marker (an explicit COMMIT or a
// statement run on its own), and cuts the connection before the answer reaches the client. The driver
// reports an error; the data is committed.
import net from 'node:net';

export interface CutProxy {
  url: string;
  /** Cut the connection once the transaction of the next statement mentioning `marker` has committed. */
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
    let fromServer = Buffer.alloc(0);

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
        if (armed && (type === 'P' || type === 'Q') && text.includes(armed)) {
          armed = null;
          sawMarker = true;
        }
      }
      upstream.write(chunk);
    });
    // Frames from the server: once the marked statement ran, the first ReadyForQuery with status 'I'
    // (idle: the transaction, explicit or implicit, has committed) is not delivered. Cut.
    upstream.on('data', (chunk) => {
      if (!sawMarker) return void client.write(chunk);
      fromServer = Buffer.concat([fromServer, chunk]);
      let at = 0;
      while (fromServer.length - at >= 5) {
        const len = fromServer.readInt32BE(at + 1);
        if (fromServer.length - at < len + 1) break;
        if (fromServer[at] === 0x5a /* Z */ && fromServer[at + 5] === 0x49 /* I */) {
          cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        at += len + 1;
      }
      // Not committed yet (e.g. inside BEGIN … COMMIT): deliver the complete frames, keep the rest.
      client.write(fromServer.subarray(0, at));
      fromServer = fromServer.subarray(at);
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
