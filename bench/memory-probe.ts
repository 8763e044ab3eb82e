// The memory row on its own, for finding what grows (not part of `npm run bench`): fake upstream +
// the compiled gateway, then PHASES (default: the 1 KB, then the 1 MB model), N streams each, 10 at a
// time. The gateway samples its own process.memoryUsage() into MEMLOG (bench/memory-log.mjs, loaded
// with --import) and logs it after a forced full GC at the end of each phase:
//   MEMLOG=/tmp/mem.log BENCH_GATEWAY_NODE_ARGS="--expose-gc --import ./bench/memory-log.mjs" node --import tsx bench/memory-probe.ts
// Add --trace-gc to BENCH_GATEWAY_NODE_ARGS to see what each scavenge promotes (in the gateway log).
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { configure, startGateway } from './gateway.ts';
import { runLoad, type Target } from './load.ts';
import { killAll, killChildrenOnExit, sampleMemory, startBenchChild } from './procs.ts';

const N = Number(process.env.N ?? 200);
const memlog = process.env.MEMLOG!;
writeFileSync(memlog, '');
killChildrenOnExit();
const tmp = mkdtempSync(`${tmpdir()}/moleapi-memprobe-`);
const up = await startBenchChild('fake-upstream.ts');
const gw = await startGateway(tmp);
const acct = await configure(gw, `http://127.0.0.1:${up.port}`);
const chat: Target = { label: 'B', url: `${gw.baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${acct.apiKey}` } };
const mark = (tag: string) => appendFileSync(memlog, JSON.stringify({ t: Date.now(), tag }) + '\n');
const phases = (process.env.PHASES ?? 'gpt-bench-1kb,gpt-bench-1mb').split(',');
for (const model of phases) {
  mark(`start ${model}`);
  const mem = sampleMemory(gw.child.pid!, 50);
  const r = await runLoad(chat, { name: model, connections: 10, stream: true, model }, N);
  mem.stop();
  mark(`end ${model}`);
  console.log(`${model}: ok ${r.ok} non2xx ${r.non2xx} err ${r.errors} peak RSS ${mem.peakRssMb().toFixed(1)} MB, ${r.rps.toFixed(0)} req/s`);
  gw.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 300));
}
killAll();

// Per phase: the highest sample of each figure, then the figures after a full GC at its end.
type Sample = { tag: string; rss?: number; heapTotal?: number; heapUsed?: number; external?: number; ab?: number };
const FIELDS = ['rss', 'heapTotal', 'heapUsed', 'external', 'ab'] as const;
let peak: Partial<Record<(typeof FIELDS)[number], number>> | null = null;
for (const line of readFileSync(memlog, 'utf8').split('\n').filter(Boolean)) {
  const s = JSON.parse(line) as Sample;
  if (s.tag.startsWith('start ')) peak = {};
  else if (s.tag.startsWith('end ')) {
    console.log(`${s.tag.slice(4)} peaks (MB): ${FIELDS.map((f) => `${f} ${peak?.[f] ?? '?'}`).join(', ')}`);
    peak = null;
  } else if (s.tag === 'gc') console.log(`  after a full GC (MB): ${FIELDS.map((f) => `${f} ${s[f]}`).join(', ')}`);
  else if (peak) for (const f of FIELDS) peak[f] = Math.max(peak[f] ?? 0, s[f] ?? 0);
}
process.exit(0);
