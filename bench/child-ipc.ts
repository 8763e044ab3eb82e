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
