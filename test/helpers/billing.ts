// Shared by the relay surface tests: a model with its own channel, price and funded user, and the
// check that one request moved the wallet, the log row and the ledger by exactly one amount.
import { expect } from 'vitest';
import OpenAI from 'openai';
import type { ApiClient } from './api.ts';
import { addChannel, createUserWithKey, setPrice, type TestGateway } from './gateway.ts';
import { eventually } from './poll.ts';

let seq = 0;
// Model names carry only digits besides the behaviour tag, so no random suffix can trigger a fake behaviour.
export const uniqueModel = (tag: string) => `m${process.pid}n${++seq}t${Date.now() % 100000}-${tag}`;

export const usd = (q: number) => {
  const a = Math.abs(q);
  return `${q < 0 ? '-' : ''}${Math.floor(a / 500000)}.${String((a % 500000) * 2).padStart(6, '0')}`;
};

export interface Funded {
  model: string;
  client: ApiClient;
  key: string;
  keyId: number;
  userId: number;
  sdk: OpenAI;
}

/** USD per 1M tokens: 1 point per input token, 4 per output token. */
export const TOKEN_PRICE = { input: '2', output: '8' };

export async function funded(
  gw: TestGateway,
  upstreamUrl: string,
  tag: string,
  opts: { price?: Parameters<typeof setPrice>[2]; channel?: Partial<Parameters<typeof addChannel>[1]>; model?: string; balance?: number } = {},
): Promise<Funded> {
  const model = opts.model ?? uniqueModel(tag);
  await addChannel(gw, { name: `ch-${model}`, baseUrl: upstreamUrl, models: [model], apiKey: `sk-upstream-${model}`, ...opts.channel });
  await setPrice(gw, model, opts.price ?? TOKEN_PRICE);
  const user = await createUserWithKey(gw, { balance: opts.balance ?? 1_000_000 });
  return { model, ...user, sdk: new OpenAI({ apiKey: user.key, baseURL: gw.url + '/v1', maxRetries: 0, timeout: 20_000 }) };
}

export async function wallet(client: ApiClient) {
  const res = await client.get('/api/wallet');
  expect(res.status).toBe(200);
  return res.body;
}

/** Waits until no hold is left and the wallet counts `requests` requests in all, then returns the wallet. */
export async function settled(client: ApiClient, requests: number, wait: { timeoutMs?: number } = {}) {
  return eventually(async () => {
    const w = await wallet(client);
    expect(w.held.quota).toBe(0);
    expect(w.requestCount).toBe(requests);
    return w;
  }, wait);
}

/** Asserts wallet, log row and ledger all show exactly `cost` for the one request just made; returns the log row. */
export async function expectBilled(s: Pick<Funded, 'model' | 'client'>, before: any, cost: number, row: Record<string, unknown> = {}) {
  const after = await eventually(async () => {
    const w = await wallet(s.client);
    expect(w.held.quota).toBe(0);
    expect(w.requestCount).toBe(before.requestCount + 1);
    return w;
  });
  expect(after.balance.quota).toBe(before.balance.quota - cost);
  const log = await eventually(async () => {
    const res = await s.client.get(`/api/logs?model=${encodeURIComponent(s.model)}&pageSize=200`);
    expect(res.body.items).toHaveLength(1);
    return res.body.items[0];
  });
  expect(log).toMatchObject({ model: s.model, cost: { quota: cost, usd: usd(cost) }, ...row });
  const ledger = await s.client.get('/api/wallet/ledger?pageSize=200');
  const usage = ledger.body.items.filter((e: any) => e.kind === 'usage');
  expect(usage.map((e: any) => e.amount.quota)).toEqual(cost === 0 ? [] : [-cost]);
  return log;
}
