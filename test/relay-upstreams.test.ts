// Channel choice and the upstream connection: fail-over rules and the attempt cap, channel weights,
// the connection limit per upstream (and no silent queue without one), TRUST_PROXY for IP allow-lists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { settled, wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { readBody } from './helpers/api.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

const MAX_ATTEMPTS = 2;
const MAX_CONNECTIONS = 2;
let gw: TestGateway; // UPSTREAM_MAX_ATTEMPTS=2, no connection limit, TRUST_PROXY off
let limited: TestGateway; // UPSTREAM_MAX_CONNECTIONS=2, TRUST_PROXY on
let up: FakeOpenAI;
let seq = 0;
const MSG = [{ role: 'user', content: 'hi' }];

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway({ env: { UPSTREAM_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } });
  limited = await startGateway({ env: { UPSTREAM_MAX_CONNECTIONS: String(MAX_CONNECTIONS), TRUST_PROXY: 'true' } });
});
afterAll(async () => {
  await gw?.close();
  await limited?.close();
  await up?.close();
});

// Model names carry digits besides the behaviour tag, so no suffix can trigger another fake behaviour.
const uniqueModel = (tag = 'plain') => `up${process.pid}n${++seq}-${tag}`;
const upstreamFor = (model: string, fake = up) => fake.requests.filter((r) => r.body?.model === model);

async function send(g: TestGateway, key: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(g.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await readBody(res) };
}

/** Channels (in priority order, highest first) for one public model, each sending its own upstream model name. */
async function channelsFor(g: TestGateway, upstreamTags: string[], fake = up) {
  const model = uniqueModel();
  const ids: number[] = [];
  const names: string[] = [];
  for (const [i, tag] of upstreamTags.entries()) {
    const name = `${model}-c${i}-${tag}`;
    names.push(name);
    ids.push(await addChannel(g, { name, baseUrl: fake.url, models: [model], apiKey: `sk-up-${i}`, priority: 100 - i, modelMapping: { [model]: name } }));
  }
  await setPrice(g, model, { input: '2', output: '8' });
  return { model, ids, names };
}

describe('fail-over', () => {
  it('an upstream 4xx is passed through: no other channel is tried, nothing is billed', async () => {
    const { model, names } = await channelsFor(gw, ['error400', 'plain']);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await send(gw, u.key, { model, messages: MSG, max_tokens: 3 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_value', type: 'invalid_request_error' }); // the provider's own body
    expect(upstreamFor(names[0]!)).toHaveLength(1);
    expect(upstreamFor(names[1]!)).toHaveLength(0);
    const w = await settled(u.client, 0);
    expect(w.balance.quota).toBe(1_000_000);
  });

  it.each(['error429', 'error408', 'error500'])('%s moves on to the next channel, which is billed', async (tag) => {
    const { model, ids, names } = await channelsFor(gw, [tag, 'plain']);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await send(gw, u.key, { model, messages: MSG, max_tokens: 3 });
    expect(res.status).toBe(200);
    expect(res.body.choices[0].message.content).toBe('tok tok tok ');
    expect(upstreamFor(names[0]!)).toHaveLength(1);
    expect(upstreamFor(names[1]!)).toHaveLength(1);
    const w = await settled(u.client, 1);
    expect(w.balance.quota).toBe(1_000_000 - (10 + 3 * 4));
    const logs = await u.client.get(`/api/logs?model=${model}`);
    expect(logs.body.items[0]).toMatchObject({ channelId: ids[1], status: 200 });
  });

  it(`UPSTREAM_MAX_ATTEMPTS (${MAX_ATTEMPTS}) caps the channels tried; the answer says which failure came last`, async () => {
    const { model, names } = await channelsFor(gw, ['error500', 'error429', 'plain']);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await send(gw, u.key, { model, messages: MSG, max_tokens: 3 });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('upstream_error');
    expect(res.body.error.message).toContain('HTTP 429');
    expect(res.body.error.message).toContain(`${MAX_ATTEMPTS} attempt(s)`);
    expect(upstreamFor(names[0]!)).toHaveLength(1);
    expect(upstreamFor(names[1]!)).toHaveLength(1);
    expect(upstreamFor(names[2]!)).toHaveLength(0); // the healthy third channel is past the cap
    const w = await settled(u.client, 0);
    expect(w.balance.quota).toBe(1_000_000);
  });

  it('408 on the last attempt → 504 upstream_timeout', async () => {
    const { model } = await channelsFor(gw, ['error500', 'error408']);
    const u = await createUserWithKey(gw, { balance: 1_000_000 });
    const res = await send(gw, u.key, { model, messages: MSG });
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('upstream_timeout');
  });
});

describe('channel weights', () => {
  /** Two channels of one priority with the given weights; returns how many of `requests` each got. */
  async function split(weights: [number, number], requests: number) {
    const model = uniqueModel();
    const names = weights.map((_, i) => `${model}-w${i}`);
    for (const [i, weight] of weights.entries()) {
      await addChannel(gw, { name: names[i], baseUrl: up.url, models: [model], apiKey: `sk-w${i}`, weight, modelMapping: { [model]: names[i]! } });
    }
    await setPrice(gw, model, { input: '2', output: '8' });
    const u = await createUserWithKey(gw, { balance: 100_000_000 });
    for (let done = 0; done < requests; done += 25) {
      const batch = await Promise.all(Array.from({ length: Math.min(25, requests - done) }, () => send(gw, u.key, { model, messages: MSG, max_tokens: 1 })));
      for (const r of batch) expect(r.status).toBe(200);
    }
    return names.map((n) => upstreamFor(n).length);
  }

  it('a weight-0 channel gets no traffic while a weighted one is healthy', async () => {
    const [zero, one] = await split([0, 1], 100);
    expect(zero).toBe(0);
    expect(one).toBe(100);
  });

  it('weights 1 : 3 split traffic 1 : 3 (within 6 standard deviations of the binomial)', async () => {
    const N = 400;
    const [a, b] = await split([1, 3], N);
    expect(a + b).toBe(N);
    const p = 1 / 4;
    const sd = Math.sqrt(N * p * (1 - p)); // ≈ 8.7: the bound below fails by chance with p < 1e-8
    expect(Math.abs(a - N * p)).toBeLessThan(6 * sd);
    // and a plain 1 : 1 shuffle would put a near 200, far outside this bound
    expect(N * 0.5 - N * p).toBeGreaterThan(6 * sd);
  });
});

describe('upstream connections', () => {
  it('without a limit, 300 streams reach one upstream at the same time (no silent queue at 256)', async () => {
    const fake = await startFakeOpenAI();
    try {
      const model = uniqueModel('stall'); // streams that send one chunk, then stay open silently
      await addChannel(gw, { baseUrl: fake.url, models: [model], apiKey: 'sk-many' });
      await setPrice(gw, model, { input: '2', output: '8' });
      const u = await createUserWithKey(gw, { balance: 100_000_000 });
      const acs = Array.from({ length: 300 }, () => new AbortController());
      const started = acs.map((ac) =>
        fetch(gw.url + '/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: MSG, stream: true }),
          signal: ac.signal,
        }).then((r) => r.status, () => 0),
      );
      await eventually(async () => expect(fake.inFlight).toBe(300), { timeoutMs: 30_000 });
      expect(fake.maxInFlight).toBe(300);
      // Every caller has its answer's head before any leaves (the upstream seeing a request comes a
      // moment before its caller gets the head; aborting in between rejects that fetch).
      expect(new Set(await Promise.all(started))).toEqual(new Set([200]));
      for (const ac of acs) ac.abort();
      await eventually(async () => expect((await wallet(u.client)).held.quota).toBe(0), { timeoutMs: 20_000 });
    } finally {
      await fake.close();
    }
  });

  it(`UPSTREAM_MAX_CONNECTIONS (${MAX_CONNECTIONS}) answers 503 upstream_busy at once past the limit, and frees slots as streams end`, async () => {
    const model = uniqueModel('slow');
    await addChannel(limited, { baseUrl: up.url, models: [model], apiKey: 'sk-lim' });
    await setPrice(limited, model, { input: '2', output: '8' });
    const u = await createUserWithKey(limited, { balance: 1_000_000 });
    const streams = Array.from({ length: MAX_CONNECTIONS }, () => new AbortController());
    const open = await Promise.all(
      streams.map((ac) =>
        fetch(limited.url + '/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: MSG, stream: true }),
          signal: ac.signal,
        }),
      ),
    );
    for (const r of open) expect(r.status).toBe(200);
    const sentBefore = upstreamFor(model).length;
    expect(sentBefore).toBe(MAX_CONNECTIONS);

    const t = performance.now();
    const busy = await send(limited, u.key, { model, messages: MSG, max_tokens: 1 });
    expect(performance.now() - t).toBeLessThan(1000); // at once, not after a stream ends
    expect(busy.status).toBe(503);
    expect(busy.body.error.code).toBe('upstream_busy');
    expect(upstreamFor(model)).toHaveLength(sentBefore); // never sent
    expect((await wallet(u.client)).held.quota).toBeGreaterThan(0); // only the two open streams hold

    for (const ac of streams) ac.abort();
    await eventually(async () => expect(upstreamFor(model).filter((r) => r.aborted)).toHaveLength(MAX_CONNECTIONS));
    // The slots are free again: a non-stream request on a fast model of the same upstream is served.
    const fast = uniqueModel();
    await addChannel(limited, { baseUrl: up.url, models: [fast], apiKey: 'sk-lim' });
    await setPrice(limited, fast, { input: '2', output: '8' });
    await eventually(async () => expect((await send(limited, u.key, { model: fast, messages: MSG, max_tokens: 1 })).status).toBe(200));
    const w = await eventually(async () => {
      const w = await wallet(u.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(w.balance.quota).toBeLessThan(1_000_000); // the streams' delivered parts and the last request were billed
  });

  it('a full upstream is skipped for another channel on another upstream', async () => {
    const other = await startFakeOpenAI();
    try {
      const model = uniqueModel();
      const slowName = `${model}-slow`;
      await addChannel(limited, { name: 'first', baseUrl: up.url, models: [model], apiKey: 'sk-a', priority: 10, modelMapping: { [model]: slowName } });
      await addChannel(limited, { name: 'second', baseUrl: other.url, models: [model], apiKey: 'sk-b', priority: 0 });
      await setPrice(limited, model, { input: '2', output: '8' });
      const u = await createUserWithKey(limited, { balance: 1_000_000 });
      const acs = Array.from({ length: MAX_CONNECTIONS }, () => new AbortController());
      await Promise.all(
        acs.map((ac) =>
          fetch(limited.url + '/v1/chat/completions', {
            method: 'POST',
            headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model, messages: MSG, stream: true }),
            signal: ac.signal,
          }),
        ),
      );
      expect(upstreamFor(slowName)).toHaveLength(MAX_CONNECTIONS);
      const res = await send(limited, u.key, { model, messages: MSG, max_tokens: 2 });
      expect(res.status).toBe(200);
      expect(upstreamFor(model, other)).toHaveLength(1);
      expect(upstreamFor(slowName)).toHaveLength(MAX_CONNECTIONS);
      for (const ac of acs) ac.abort();
      await eventually(async () => expect(upstreamFor(slowName).filter((r) => r.aborted)).toHaveLength(MAX_CONNECTIONS));
    } finally {
      await other.close();
    }
  });
});

describe('TRUST_PROXY and key IP allow-lists', () => {
  async function keyAllowing(g: TestGateway, allowIps: string[]) {
    const model = uniqueModel();
    await addChannel(g, { baseUrl: up.url, models: [model], apiKey: 'sk-ip' });
    await setPrice(g, model, { input: '2', output: '8' });
    const u = await createUserWithKey(g, { balance: 1_000_000, key: { allowIps } });
    return { model, key: u.key };
  }

  it('off (default): the socket address decides and X-Forwarded-For is ignored', async () => {
    const local = await keyAllowing(gw, ['127.0.0.1/32']);
    expect((await send(gw, local.key, { model: local.model, messages: MSG, max_tokens: 1 }, { 'x-forwarded-for': '10.9.9.9' })).status).toBe(200);
    const remote = await keyAllowing(gw, ['10.0.0.0/8']);
    const refused = await send(gw, remote.key, { model: remote.model, messages: MSG, max_tokens: 1 }, { 'x-forwarded-for': '10.9.9.9' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ip_not_allowed');
    expect(refused.body.error.message).toContain('127.0.0.1');
  });

  it('on: the first X-Forwarded-For hop decides, not the proxy socket', async () => {
    const remote = await keyAllowing(limited, ['10.0.0.0/8']);
    const ok = await send(limited, remote.key, { model: remote.model, messages: MSG, max_tokens: 1 }, { 'x-forwarded-for': '10.9.9.9, 127.0.0.1' });
    expect(ok.status).toBe(200);
    const noHeader = await send(limited, remote.key, { model: remote.model, messages: MSG, max_tokens: 1 });
    expect(noHeader.status).toBe(403);
    const local = await keyAllowing(limited, ['127.0.0.1/32']);
    const forwarded = await send(limited, local.key, { model: local.model, messages: MSG, max_tokens: 1 }, { 'x-forwarded-for': '10.9.9.9' });
    expect(forwarded.status).toBe(403);
    expect(forwarded.body.error.message).toContain('10.9.9.9');
  });
});
