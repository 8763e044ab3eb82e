// The slow-stream row: many concurrent streams of a slow model (200 ms to the first byte, 20 chunks
// over 1 s), A and B side by side. It shows whether the gateway lets them all reach the upstream at
// once (a connection cap would queue them silently: 1000 streams through 256 connections took p50
// 4.6 s instead of 1.2 s). Each connection runs BENCH_SLOW_ROUNDS streams one after another, after
// one warmup stream per connection.
import { runLoad, type Measured, type Scenario, type Target } from './load.ts';
import type { Check, ScenarioResult } from './report.ts';

export const SLOW_STREAMS = Number(process.env.BENCH_SLOW_STREAMS ?? 1000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_SLOW_ROUNDS ?? 4));

export const slowScenario = (): Scenario => ({ name: `slow stream ${SLOW_STREAMS}c`, connections: SLOW_STREAMS, stream: true, model: 'gpt-bench-slow' });

async function measureSlow(target: Target, scenario: Scenario): Promise<Measured> {
  const warmup = [await runLoad(target, scenario, scenario.connections)];
  const main = await runLoad(target, scenario, scenario.connections * ROUNDS);
  return { warmup, main };
}

export async function runSlowStreams(a: Target, b: Target | undefined, log: (msg: string) => void): Promise<ScenarioResult | undefined> {
  if (SLOW_STREAMS <= 0) return undefined;
  const scenario = slowScenario();
  log(`${scenario.name}: A`);
  const ma = await measureSlow(a, scenario);
  log(`${scenario.name}: B`);
  const mb = b ? await measureSlow(b, scenario) : undefined;
  return { scenario, a: ma, b: mb };
}

/**
 * Each stream takes ~1.2 s at best. The gateway must stay near the bare proxy (a queue behind a
 * connection cap gave 0.28) and answer every stream; 0.6 leaves room for a noisy shared machine.
 */
export function slowChecks(r: ScenarioResult | undefined): Check[] {
  if (!r?.b) return [];
  const a = r.a.main;
  const b = r.b.main;
  const ratio = b.rps / a.rps;
  const bad = b.non2xx + b.errors + a.non2xx + a.errors;
  return [
    { name: 'slow streams: B/A throughput ≥ 0.6 (no silent queue)', pass: ratio >= 0.6, detail: `${ratio.toFixed(2)} (A ${a.rps.toFixed(0)} req/s p50 ${a.p50.toFixed(0)} ms, B ${b.rps.toFixed(0)} req/s p50 ${b.p50.toFixed(0)} ms)` },
    { name: 'slow streams: every answer 2xx (A and B)', pass: bad === 0, detail: `${bad} non-2xx or errors` },
  ];
}
