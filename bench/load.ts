// Load generation with autocannon's programmatic API.
//
// Runs are sized by request count (autocannon `amount`), not by duration: a duration run ends by
// destroying sockets with requests still in flight, which the gateway may or may not bill, and the
// durability check needs every request to have a known outcome. The count is chosen from the rate
// measured during warmup so that a run still lasts about BENCH_SECONDS.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface Scenario {
  name: string;
  connections: number;
  stream: boolean;
  /** Model to request (default gpt-bench, the zero-latency one). */
  model?: string;
  /** A request body other than the OpenAI chat one (the Anthropic rows). */
  body?: string;
}

export interface Target {
  label: string;
  url: string;
  headers: Record<string, string>;
  /** API keys used in turn, one per request (several users); else `headers` carries the one key. */
  keys?: string[];
}

export interface RunStats {
  ok: number; // 2xx responses
  non2xx: number;
  errors: number; // connection errors and timeouts
  statusCodes: Record<string, number>;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

export function requestBody(stream: boolean, model = 'gpt-bench'): string {
  const body: Record<string, unknown> = {
    model,
    messages: [{ role: 'user', content: 'Hello, how are you?' }],
    max_tokens: 16,
  };
  if (stream) body.stream = true;
  return JSON.stringify(body);
}

// Percentile over the exact latencies: autocannon's own histogram has 1 ms resolution, too coarse
// for a 3 ms overhead budget.
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function rotateKeys(keys: string[]) {
  let next = 0;
  return (req: { headers?: Record<string, string> }) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${keys[next++ % keys.length]}` } });
}

export async function runLoad(target: Target, scenario: Scenario, amount: number): Promise<RunStats> {
  const latencies: number[] = [];
  const started = performance.now();
  let lastResponse = started;
  const instance = autocannon({
    url: target.url,
    method: 'POST',
    connections: scenario.connections,
    amount: Math.max(amount, scenario.connections),
    headers: { 'content-type': 'application/json', ...target.headers },
    body: scenario.body ?? requestBody(scenario.stream, scenario.model),
    ...(target.keys ? { requests: [{ setupRequest: rotateKeys(target.keys) }] } : {}),
    timeout: 30,
    // autocannon only notices the end of a run on its sample tick; keep that wait short.
    sampleInt: 100,
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    lastResponse = performance.now();
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  // Elapsed until the last answer, not until autocannon resolves (it idles until its next tick).
  const seconds = Math.max(lastResponse - started, 1) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    seconds,
    rps: result['2xx'] / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

export interface Measured {
  warmup: RunStats[];
  main: RunStats;
}

// Warmup: batches of a few requests per connection until warmupSeconds have passed, so the JIT,
// the pools and the caches are hot; the last batch's rate sizes the measured run.
export async function measure(target: Target, scenario: Scenario, seconds: number, warmupSeconds: number): Promise<Measured> {
  const warmup: RunStats[] = [];
  const batch = scenario.connections * 20;
  const deadline = performance.now() + warmupSeconds * 1000;
  do {
    warmup.push(await runLoad(target, scenario, batch));
  } while (performance.now() < deadline);
  const rate = warmup[warmup.length - 1]!.rps || batch;
  const main = await runLoad(target, scenario, Math.round(rate * seconds));
  return { warmup, main };
}

export interface ProbeResult {
  status: number;
  text: string;
}

// One plain request, used to check a target works before loading it and to show the exact error
// when a load run got non-2xx answers (autocannon does not keep bodies).
export async function probe(target: Target, stream: boolean): Promise<ProbeResult> {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: requestBody(stream),
  });
  return { status: res.status, text: await res.text() };
}

// What a correct answer must contain: usage for non-streams, the usage event and [DONE] for streams.
export function probeProblem(result: ProbeResult, stream: boolean): string | undefined {
  if (result.status !== 200) return `status ${result.status}: ${result.text.slice(0, 500)}`;
  if (!stream && !result.text.includes('"usage"')) return `no usage in answer: ${result.text.slice(0, 500)}`;
  if (stream && !result.text.includes('data: [DONE]')) return `stream without [DONE]: ${result.text.slice(0, 500)}`;
  return undefined;
}
