// Dev tool: CPU microseconds per request of the bare proxy (A) and the gateway (B) at 10 connections,
// read from /proc, which is steadier than req/s on a shared machine. `node --import tsx bench/cpu-per-request.ts`
// (N=requests, ONLY_NONSTREAM=1).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { configure, startGateway } from './gateway.ts';
import { runLoad, type Target } from './load.ts';
import { killAll, killChildrenOnExit, startBenchChild } from './procs.ts';

const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
const cpu = (pid: number) => {
  const f = stat(pid);
  return (Number(f[11]) + Number(f[12])) * 10; // ms (100 Hz ticks)
};
const sys = (pid: number) => Number(stat(pid)[12]) * 10;
killChildrenOnExit();
const up = await startBenchChild('fake-upstream.ts');
const a = await startBenchChild('bare-proxy.ts', { UPSTREAM_URL: `http://127.0.0.1:${up.port}` });
const gw = await startGateway(mkdtempSync(`${tmpdir()}/cpuexp-`));
const acct = await configure(gw, `http://127.0.0.1:${up.port}`);
const targets: Array<[Target, number]> = [
  [{ label: 'A', url: `http://127.0.0.1:${a.port}/v1/chat/completions`, headers: {} }, a.child.pid!],
  [{ label: 'B', url: `${gw.baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${acct.apiKey}` } }, gw.child.pid!],
];
const n = Number(process.env.N ?? 20000);
for (const stream of (process.env.ONLY_NONSTREAM ? [false] : [false, true])) {
  for (const [t, pid] of targets) {
    await runLoad(t, { name: 'w', connections: 10, stream }, 2000);
    const c0 = cpu(pid), u0 = cpu(up.child.pid!), s0 = cpu(process.pid), k0 = sys(pid);
    const r = await runLoad(t, { name: 'm', connections: 10, stream }, n);
    console.log(`${t.label} stream=${stream} rps=${r.rps.toFixed(0)} p50=${r.p50.toFixed(2)} p99=${r.p99.toFixed(2)} proxy µs/req=${(((cpu(pid) - c0) * 1000) / n).toFixed(0)} (kernel ${(((sys(pid) - k0) * 1000) / n).toFixed(0)}) upstream µs/req=${(((cpu(up.child.pid!) - u0) * 1000) / n).toFixed(0)} loadgen µs/req=${(((cpu(process.pid) - s0) * 1000) / n).toFixed(0)}`);
  }
}
gw.child.kill('SIGTERM');
await new Promise((r) => gw.child.once('exit', r));
killAll();
process.exit(0);
