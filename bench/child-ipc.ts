import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Helpers for the benchmark's own child processes (fake upstream, bare proxy). They bind to port 0
// and tell the orchestrator the real port over the IPC channel, which avoids port races.

export function announcePort(port: number): void {
  if (!process.send) throw new Error('must be started by bench/run.ts (needs an IPC channel)');
  process.send({ port });
}

// When the orchestrator dies (even by SIGKILL) the IPC channel closes: exit too, so no server is
// left holding a port after an aborted run.
export function exitWithParent(close: () => void): void {
  const stop = (): void => {
    close();
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Starts a bench child's HTTP server on a free loopback port: reads each request body whole, hands it
 * to `handle`, announces the port, and closes when the orchestrator goes away.
 */
export function serveBodies(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void,
  onExit: () => void = () => undefined,
): void {
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(parts)));
  });
  // Longer than undici's keep-alive so the proxies never reuse a socket the server is closing.
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => announcePort((server.address() as AddressInfo).port));
  exitWithParent(() => {
    onExit();
    server.close();
  });
}
