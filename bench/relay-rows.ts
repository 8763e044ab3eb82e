// The relay rows, gateway (B) only, after the main table: Anthropic Messages streaming passed
// through to an Anthropic channel and translated onto the OpenAI channel, next to the OpenAI
// passthrough stream measured the same way (the bare proxy speaks only OpenAI chat); and the memory
// row: 1 KB and 1 MB streams in turn, the gateway's peak RSS in each phase.
import { measure, runLoad, type Measured, type Scenario, type Target } from './load.ts';
import { sampleMemory } from './procs.ts';
import { total2xx, type Check } from './report.ts';

const CONNECTIONS = 10;
const CHUNKS = 8; // text deltas per bench stream (fake-upstream.ts WORDS)
const MEMORY_STREAMS = Number(process.env.BENCH_MEMORY_STREAMS ?? 200);
// Here, after the other scenarios, the 1 KB phase's peak carries their heap, so this swings: +11 to
// +28 MB on a loaded machine since a stream's fallback state lives in pooled off-heap blocks, +9 to
// +46 MB before (README, memory row). bench/memory-probe.ts measures the two phases on their own.
const MEMORY_GROWTH_MB = 32;

const anthropicBody = (model: string) => JSON.stringify({ model, max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'Hello, how are you?' }] });

export interface RelayRows {
  /** Each row's rounds, measured interleaved so all three see the same machine noise. */
  openai: Measured[];
  passthrough: Measured[];
  translated: Measured[];
  memory: { smallMb: number; largeMb: number; streams: number };
  /** 2xx answers of the memory phases (billed and logged like the rest). */
  memoryOk: number;
}

const ROUNDS = Math.max(1, Number(process.env.BENCH_RELAY_ROUNDS ?? 3));
const sum2xx = (ms: Measured[]) => ms.reduce((n, m) => n + total2xx(m), 0);

/** Every 2xx answer the relay rows got, for the durability check. */
export const relay2xx = (r: RelayRows | null): number => (r ? sum2xx(r.openai) + sum2xx(r.passthrough) + sum2xx(r.translated) + r.memoryOk : 0);

export async function runRelayRows(gatewayUrl: string, apiKey: string, pid: number, seconds: number, warmupSeconds: number, log: (m: string) => void): Promise<RelayRows> {
  const chat: Target = { label: 'B', url: `${gatewayUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${apiKey}` } };
  const messages: Target = { label: 'B', url: `${gatewayUrl}/v1/messages`, headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' } };
  const rows: [Target, Scenario, Measured[]][] = [
    [chat, { name: 'openai passthrough stream 10c', connections: CONNECTIONS, stream: true }, []],
    [messages, { name: 'anthropic passthrough stream 10c', connections: CONNECTIONS, stream: true, body: anthropicBody('claude-bench') }, []],
    [messages, { name: 'anthropic → openai translated stream 10c', connections: CONNECTIONS, stream: true, body: anthropicBody('gpt-bench') }, []],
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [target, scenario, out] of rows) {
      log(`${scenario.name} #${round}: B`);
      out.push(await measure(target, scenario, seconds, warmupSeconds));
    }
  }
  const [openai, passthrough, translated] = rows.map((r) => r[2]) as [Measured[], Measured[], Measured[]];

  let memoryOk = 0;
  const phase = async (model: string) => {
    const mem = sampleMemory(pid, 50);
    memoryOk += (await runLoad(chat, { name: model, connections: CONNECTIONS, stream: true, model }, MEMORY_STREAMS)).ok;
    mem.stop();
    return mem.peakRssMb();
  };
  log(`memory: ${MEMORY_STREAMS} streams of 1 KB, then of 1 MB`);
  const smallMb = await phase('gpt-bench-1kb');
  const largeMb = await phase('gpt-bench-1mb');
  return { openai, passthrough, translated, memory: { smallMb, largeMb, streams: MEMORY_STREAMS }, memoryOk };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function reportRelayRows(r: RelayRows): Check[] {
  const rps = (ms: Measured[]) => median(ms.map((m) => m.main.rps));
  const p50 = (ms: Measured[]) => median(ms.map((m) => m.main.p50));
  const p99 = (ms: Measured[]) => median(ms.map((m) => m.main.p99));
  const line = (name: string, ms: Measured[]) =>
    `${name.padEnd(46)} ${rps(ms).toFixed(0).padStart(6)} req/s  p50 ${p50(ms).toFixed(2)} ms  p99 ${p99(ms).toFixed(2)} ms  (medians of ${ms.length}; req/s ${ms.map((m) => m.main.rps.toFixed(0)).join(', ')})`;
  console.log(line('openai passthrough stream 10c (B)', r.openai));
  console.log(line('anthropic passthrough stream 10c (B)', r.passthrough));
  console.log(line('anthropic → openai translated stream 10c (B)', r.translated));
  const passRatio = rps(r.passthrough) / rps(r.openai);
  const perChunkMs = (p50(r.translated) - p50(r.passthrough)) / CHUNKS;
  console.log(`translation overhead: ${(perChunkMs * 1000).toFixed(0)} µs per chunk at p50 (translated − anthropic passthrough, over ${CHUNKS} chunks)`);
  const growth = r.memory.largeMb - r.memory.smallMb;
  console.log(`memory: peak RSS ${r.memory.smallMb.toFixed(1)} MB over ${r.memory.streams} × 1 KB streams, ${r.memory.largeMb.toFixed(1)} MB over ${r.memory.streams} × 1 MB streams (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB), ${CONNECTIONS} at a time`);
  const bad = [...r.openai, ...r.passthrough, ...r.translated].reduce((n, m) => n + m.main.non2xx + m.main.errors, 0);
  return [
    { name: 'anthropic passthrough within 10 % of openai passthrough (B, stream 10c, median)', pass: passRatio >= 0.9, detail: `${passRatio.toFixed(2)}` },
    { name: `memory flat: 1 MB streams peak RSS ≤ 1 KB streams + ${MEMORY_GROWTH_MB} MB`, pass: growth <= MEMORY_GROWTH_MB, detail: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB` },
    { name: 'relay rows: every answer 2xx', pass: bad === 0, detail: `${bad} non-2xx or errors` },
  ];
}
