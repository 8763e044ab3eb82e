// The stream overdraft cut-off: a stream whose running cost passes its hold plus the caller's
// available balance (both known when the hold was placed) is ended with an in-band error in the
// caller's protocol and billed for what was delivered, so the balance never ends below minus one
// chunk's cost. Fakes flood (a provider ignoring max_tokens) with FLOOD_TEXT chunks 2 ms apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOOD_EVENTS, FLOOD_TEXT, startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { readBody, type ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let oai: FakeOpenAI;
let ant: FakeAnthropic;
let seq = 0;

// Output at $8 / 1M tokens = 4 points a token. A token is at least one byte, so one chunk costs at most:
const POINTS_PER_OUTPUT_TOKEN = 4;
const CHUNK_COST = Buffer.byteLength(FLOOD_TEXT) * POINTS_PER_OUTPUT_TOKEN;
const BALANCE = 3_000;

beforeAll(async () => {
  [oai, ant] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([oai?.close(), ant?.close()]);
});

async function setup(type: 'openai' | 'anthropic', balance = BALANCE, behaviour = 'flood') {
  const model = `od${process.pid}n${++seq}-${behaviour}`;
  await addChannel(gw, { name: model, type, baseUrl: type === 'openai' ? oai.url : ant.url, models: [model] });
  await setPrice(gw, model, { input: '2', output: '8' });
  const u = await createUserWithKey(gw, { balance });
  return { model, ...u };
}

async function settledWallet(client: ApiClient) {
  for (let i = 0; ; i++) {
    const w = (await client.get('/api/wallet')).body;
    if (w.held.quota === 0 && w.requestCount === 1) return w;
    if (i > 100) throw new Error(`not settled: ${JSON.stringify(w)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lastLog(client: ApiClient, model: string) {
  const res = await client.get(`/api/logs?model=${model}`);
  return res.body.items[0];
}

const openaiCall = (key: string, model: string) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
const anthropicCall = (key: string, model: string) =>
  fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });

const deltas = (text: string) => text.split(FLOOD_TEXT.trim()).length - 1;

/** Ended at the ceiling: an in-band error, far fewer chunks than the provider had, overdraft within one chunk. */
async function expectCutOff(u: { client: ApiClient }, model: string, text: string, errorPattern: RegExp) {
  expect(text).toMatch(errorPattern);
  expect(text).toContain('Your balance ran out during this response');
  expect(deltas(text)).toBeGreaterThan(0);
  expect(deltas(text)).toBeLessThan(FLOOD_EVENTS);
  const w = await settledWallet(u.client);
  expect(w.balance.quota).toBeGreaterThanOrEqual(-CHUNK_COST);
  expect(w.balance.quota).toBeLessThanOrEqual(CHUNK_COST); // not cut early either: the balance was used up
  const log = await lastLog(u.client, model);
  expect(log).toMatchObject({ status: 402, error: expect.stringContaining('hold plus the available balance') });
  expect(log.cost.quota).toBe(BALANCE - w.balance.quota);
}

describe('stream overdraft cut-off', () => {
  it('OpenAI caller, OpenAI channel (passthrough): ended with an in-band OpenAI error chunk', async () => {
    const u = await setup('openai');
    const res = await openaiCall(u.key, u.model);
    expect(res.status).toBe(200);
    await expectCutOff(u, u.model, await res.text(), /data: \{"error":\{"message":"Your balance ran out[^"]*","type":"insufficient_quota","param":null,"code":"insufficient_quota"\}\}\n\n$/);
    expect(oai.requests.find((r) => r.body?.model === u.model)?.aborted).toBe(true); // the upstream was stopped
  });

  it.each([
    ['OpenAI caller, OpenAI channel (passthrough)', 'openai', openaiCall, /"code":"insufficient_quota"\}\}\n\n$/],
    ['Anthropic caller, Anthropic channel (passthrough)', 'anthropic', anthropicCall, /"type":"billing_error"/],
    ['Anthropic caller, OpenAI channel (translated)', 'openai', anthropicCall, /"type":"billing_error"/],
  ] as const)('%s, many chunks in one read (the provider wrote them at once): still cut within one chunk, not one read', async (_name, type, call, pattern) => {
    const u = await setup(type, BALANCE, 'floodburst');
    const res = await call(u.key, u.model);
    expect(res.status).toBe(200);
    await expectCutOff(u, u.model, await res.text(), pattern);
  });

  it('Anthropic caller, Anthropic channel (passthrough): ended with an in-band billing_error event', async () => {
    const u = await setup('anthropic');
    const res = await anthropicCall(u.key, u.model);
    expect(res.status).toBe(200);
    await expectCutOff(u, u.model, await res.text(), /event: error\ndata: \{"type":"error","error":\{"type":"billing_error","message":"Your balance ran out/);
  });

  it('Anthropic caller, OpenAI channel (translated): ended with an in-band billing_error event', async () => {
    const u = await setup('openai');
    const res = await anthropicCall(u.key, u.model);
    expect(res.status).toBe(200);
    await expectCutOff(u, u.model, await res.text(), /event: error\ndata: \{"type":"error","error":\{"type":"billing_error","message":"Your balance ran out/);
  });

  it('OpenAI caller, Anthropic channel (translated): ended with an in-band OpenAI error chunk', async () => {
    const u = await setup('anthropic');
    const res = await openaiCall(u.key, u.model);
    expect(res.status).toBe(200);
    await expectCutOff(u, u.model, await res.text(), /data: \{"error":\{"message":"Your balance ran out[^"]*","type":"insufficient_quota"/);
  });

  it('a caller who can afford the whole stream gets all of it, billed on the provider usage', async () => {
    const u = await setup('openai', 10_000_000);
    const res = await openaiCall(u.key, u.model);
    const text = await res.text();
    expect(text).not.toContain('Your balance ran out');
    expect(deltas(text)).toBe(FLOOD_EVENTS);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const log = await lastLog(u.client, u.model);
    expect(log).toMatchObject({ status: 200, completionTokens: FLOOD_EVENTS * 40, estimated: false });
  });

  it('a non-streamed answer is not metered by the ceiling (its hold covers it)', async () => {
    const u = await setup('openai');
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: u.model, max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect((await readBody(res)).choices[0].message.content).toBe('tok tok tok tok ');
  });
});
