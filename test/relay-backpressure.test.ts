// A slow caller of a long stream: the gateway must stop reading the provider while the caller's
// socket is full (backpressure), not buffer the provider's whole answer in memory. The fake provider
// streams 128 MB as fast as its socket takes it; the caller reads one chunk and then nothing. What
// the provider managed to write is then bounded by the sockets' kernel buffers and the gateway's
// own small buffers; without backpressure it would be the whole answer. Both passthrough paths
// (OpenAI tap, Anthropic tap) and a translated one (metered decoder) are checked.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBigStream, type FakeBigStream } from './fakes/big-stream-upstream.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { until } from './helpers/poll.ts';

const TOTAL = 128 * 1024 * 1024;
/** Kernel socket buffers on loopback (two connections, send and receive sides) plus the gateway's own. */
const BOUND = 32 * 1024 * 1024;

let gw: TestGateway;
let up: FakeBigStream;
let seq = 0;

beforeAll(async () => {
  up = await startFakeBigStream(TOTAL);
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** Opens the stream, reads its first chunk, then stops reading; resolves once the provider stalls. */
async function stalledCaller(path: string, headers: Record<string, string>, body: unknown) {
  const requestsBefore = up.requests.length;
  const req = http.request(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
  req.end(JSON.stringify(body));
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
  expect(res.statusCode).toBe(200);
  const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
  res.pause();
  expect(first.length).toBeGreaterThan(0);
  const rec = await until(() => up.requests[requestsBefore], { what: 'the upstream request' });
  // The provider has stalled once its count stops moving for half a second.
  let last = -1;
  let movedAt = Date.now();
  await until(
    () => {
      if (rec.written !== last) (last = rec.written), (movedAt = Date.now());
      return Date.now() - movedAt >= 500 || rec.written >= TOTAL;
    },
    { timeoutMs: 30_000, what: 'the provider to stall or finish' },
  );
  return { req, res, rec };
}

async function setup(type: 'openai' | 'anthropic', model: string) {
  await addChannel(gw, { name: model, type, baseUrl: up.url, models: [model] });
  await setPrice(gw, model, { input: '2', output: '8' });
  return createUserWithKey(gw, { balance: 5_000_000_000_000 });
}

async function expectBilledAsLeft(u: Awaited<ReturnType<typeof setup>>, model: string) {
  for (let i = 0; ; i++) {
    const w = (await u.client.get('/api/wallet')).body;
    if (w.held.quota === 0 && w.requestCount === 1) break;
    if (i > 200) throw new Error(`not settled: ${JSON.stringify(w)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const item = (await u.client.get(`/api/logs?model=${model}`)).body.items[0];
  expect(item).toMatchObject({ status: 499 });
}

describe('a caller that stops reading a long stream', () => {
  const cases: [string, 'openai' | 'anthropic', string, (key: string) => Record<string, string>][] = [
    ['OpenAI passthrough', 'openai', '/v1/chat/completions', (key) => ({ authorization: `Bearer ${key}` })],
    ['Anthropic passthrough', 'anthropic', '/v1/messages', (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' })],
    ['Anthropic caller translated onto OpenAI', 'openai', '/v1/messages', (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' })],
  ];
  for (const [name, type, path, headers] of cases) {
    it(`${name}: the provider is paused, not drained into the gateway; leaving stops it`, async () => {
      const model = `bp${process.pid}n${++seq}`;
      const u = await setup(type, model);
      const { req, rec } = await stalledCaller(path, headers(u.key), { model, max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      expect(rec.written).toBeLessThan(BOUND);
      expect(rec.aborted).toBe(false);
      req.destroy();
      await until(() => rec.aborted, { what: 'the gateway to close the upstream' });
      expect(rec.written).toBeLessThan(BOUND);
      await expectBilledAsLeft(u, model);
    }, 60_000);
  }
});
