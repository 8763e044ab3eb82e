import pino from 'pino';
import { ensureAdmin } from './bootstrap.ts';
import { loadConfig } from './config.ts';
import { createGateway } from './gateway.ts';
import { startServer } from './server.ts';

async function main() {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL, redact: ['req.headers.authorization', 'apiKey', 'password'] });
  const gw = await createGateway(config, log);
  const admin = await ensureAdmin(gw, config.MOLEAPI_ADMIN_PASSWORD);
  if (admin.generatedPassword) {
    // Printed once, on the console only (not the JSON log), so it is not shipped to log storage.
    process.stdout.write(`\nCreated admin account "admin" with password: ${admin.generatedPassword}\nChange it after logging in.\n\n`);
  } else if (admin.created) {
    log.info('created admin account "admin" with MOLEAPI_ADMIN_PASSWORD');
  }
  const server = await startServer(gw, config.PORT, config.HOST);
  const dbKind = gw.db.dialect === 'sqlite' ? config.DATABASE_URL : 'postgres';
  log.info({ port: server.port, db: dbKind, bus: gw.bus.kind }, `MoleAPI listening on http://localhost:${server.port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // close() stops listening before it returns its promise: once this line is out, connections are refused.
    const draining = server.close();
    log.info({ signal }, 'shutting down: no new connections; finishing requests in flight');
    await draining;
    await gw.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
