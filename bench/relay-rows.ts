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

const anthropicBody = (model: string) => JSON.stringify({ model, max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'Hello, how are you?' }] });

export interface RelayRows {
  openai: Measured;
  passthrough: Measured;
  translated: Measured;
  memory: { smallMb: number; largeMb: number; streams: number };
  /** 2xx answers of the memory phases (billed and logged like the rest). */
  memoryOk: number;
}

/** Every 2xx answer the relay rows got, for the durability check. */
export const relay2xx = (r: RelayRows | null): number => (r ? total2xx(r.openai) + total2xx(r.passthrough) + total2xx(r.translated) + r.memoryOk : 0);

export async function runRelayRows(gatewayUrl: string, apiKey: string, pid: number, seconds: number, warmupSeconds: number, log: (m: string) => void): Promise<RelayRows> {
  const chat: Target = { label: 'B', url: `${gatewayUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${apiKey}` } };
  const messages: Target = { label: 'B', url: `${gatewayUrl}/v1/messages`, headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' } };
  const openaiRow: Scenario = { name: 'openai passthrough stream 10c', connections: CONNECTIONS, stream: true };
  const passRow: Scenario = { name: 'anthropic passthrough stream 10c', connections: CONNECTIONS, stream: true, body: anthropicBody('claude-bench') };
  const transRow: Scenario = { name: 'anthropic → openai translated stream 10c', connections: CONNECTIONS, stream: true, body: anthropicBody('gpt-bench') };
  log(`${openaiRow.name}: B`);
  const openai = await measure(chat, openaiRow, seconds, warmupSeconds);
  log(`${passRow.name}: B`);
  const passthrough = await measure(messages, passRow, seconds, warmupSeconds);
  log(`${transRow.name}: B`);
  const translated = await measure(messages, transRow, seconds, warmupSeconds);

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

export function reportRelayRows(r: RelayRows): Check[] {
  const line = (name: string, m: Measured) => `${name.padEnd(42)} ${m.main.rps.toFixed(0).padStart(7)} req/s  p50 ${m.main.p50.toFixed(2)} ms  p99 ${m.main.p99.toFixed(2)} ms  bad ${m.main.non2xx + m.main.errors}`;
  console.log(line('openai passthrough stream 10c (B)', r.openai));
  console.log(line('anthropic passthrough stream 10c (B)', r.passthrough));
  console.log(line('anthropic → openai translated stream 10c (B)', r.translated));
  const passRatio = r.passthrough.main.rps / r.openai.main.rps;
  const perChunkMs = (r.translated.main.p50 - r.openai.main.p50) / CHUNKS;
  console.log(`translation overhead: ${(perChunkMs * 1000).toFixed(0)} µs per chunk at p50 (translated − openai passthrough, over ${CHUNKS} chunks)`);
  const growth = r.memory.largeMb - r.memory.smallMb;
  console.log(`memory: peak RSS ${r.memory.smallMb.toFixed(1)} MB over ${r.memory.streams} × 1 KB streams, ${r.memory.largeMb.toFixed(1)} MB over ${r.memory.streams} × 1 MB streams (+${growth.toFixed(1)} MB)`);
  const bad = [r.openai, r.passthrough, r.translated].reduce((n, m) => n + m.main.non2xx + m.main.errors, 0);
  return [
    { name: 'anthropic passthrough within 10 % of openai passthrough (B, stream 10c)', pass: passRatio >= 0.9, detail: `${passRatio.toFixed(2)}` },
    { name: 'memory flat: 1 MB streams peak RSS ≤ 1 KB streams + 64 MB', pass: growth <= 64, detail: `+${growth.toFixed(1)} MB` },
    { name: 'relay rows: every answer 2xx', pass: bad === 0, detail: `${bad} non-2xx or errors` },
  ];
}
