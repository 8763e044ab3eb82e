// Preload for the gateway (bench/memory-probe.ts): samples process.memoryUsage() into MEMLOG every 25 ms
// as JSON lines (MB); SIGUSR2 logs it after a full GC (with --expose-gc).
import { appendFileSync } from 'node:fs';
const file = process.env.MEMLOG;
if (file) {
  const mb = (n) => +(n / 1048576).toFixed(1);
  const line = (tag) => {
    const m = process.memoryUsage();
    appendFileSync(file, JSON.stringify({ t: Date.now(), tag, rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), ab: mb(m.arrayBuffers) }) + '\n');
  };
  setInterval(() => line('s'), 25).unref();
  process.on('SIGUSR2', () => { if (globalThis.gc) { gc(); gc(); } line('gc'); });
}
