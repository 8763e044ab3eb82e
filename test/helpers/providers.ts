// Shared by the relay-providers-* tests (gemini, azure and vertex channel types): a gateway with the
// fake upstreams a file needs, a model on a channel of one type with its price and a funded user, and
// the check that one call moved the wallet by exactly the price-table cost.
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { generateKeyPairSync } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect } from 'vitest';
import { costOf, type Price } from '../../src/pricing/cost.ts';
import { startFakeAzure, type FakeAzure } from '../fakes/azure-upstream.ts';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini-upstream.ts';
import type { ApiClient } from './api.ts';
import { wallet } from './billing.ts';
import { eventually } from './poll.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './gateway.ts';

export const PROJECT = 'mole-test-project';
export const LOCATION = 'us-central1';
const CLIENT_EMAIL = 'relay@mole-test-project.iam.gserviceaccount.com';
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
export const serviceAccount = (tokenUri: string, pem = privatePem) =>
  JSON.stringify({ type: 'service_account', project_id: PROJECT, private_key_id: 'k1', private_key: pem, client_email: CLIENT_EMAIL, token_uri: tokenUri }, null, 2);

const PRICE = { input: '2', output: '8', cachedInput: '1' }; // 1 point per input token, 4 per output, 0.5 per cached
const PRICE_TABLE: Price = { input: 2_000_000n, output: 8_000_000n, cachedInput: 1_000_000n, cacheWrite: null, perRequest: null, maxOutputTokens: null };
export const cost = (promptTokens: number, completionTokens: number, cachedTokens = 0) => costOf(PRICE_TABLE, 1_000_000n, { promptTokens, completionTokens, cachedTokens });

export type Kind = 'gemini' | 'azure' | 'vertex';

/** Filled in by beforeAll: the gateway and the fakes of the kinds asked for. */
export interface Providers {
  gw: TestGateway;
  gem: FakeGemini;
  vtx: FakeGemini;
  az: FakeAzure;
}

/** Starts (before the file's tests) and stops (after them) a gateway and the fakes of `kinds`. */
export function useProviders(kinds: Kind[]): Providers {
  const p = {} as Providers;
  beforeAll(async () => {
    const vertex = { project: PROJECT, location: LOCATION, clientEmail: CLIENT_EMAIL, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    await Promise.all([
      kinds.includes('gemini') && startFakeGemini().then((f) => (p.gem = f)),
      kinds.includes('azure') && startFakeAzure().then((f) => (p.az = f)),
      kinds.includes('vertex') && startFakeGemini({ vertex }).then((f) => (p.vtx = f)),
    ]);
    p.gw = await startGateway();
  });
  afterAll(async () => {
    await p.gw?.close();
    await p.gem?.close();
    await p.vtx?.close();
    await p.az?.close();
  });
  return p;
}

const channelFor = (p: Providers, kind: Kind, model: string) =>
  kind === 'gemini'
    ? { type: 'gemini', baseUrl: p.gem.url, apiKey: `gk-${model}` }
    : kind === 'azure'
      ? { type: 'azure', baseUrl: p.az.url, apiKey: `ak-${model}`, config: { apiVersion: '2024-10-21' } }
      : { type: 'vertex', baseUrl: p.vtx.url, apiKey: serviceAccount(`${p.vtx.url}/token`), config: { project: PROJECT, location: LOCATION } };

let seq = 0;

/** A model (its name ends in `tag`, which picks the fakes' behaviour) on a fresh channel of `kind`, and a funded user's SDKs. */
export async function setup(p: Providers, kind: Kind, tag: string, channel: Record<string, unknown> = {}) {
  const model = `p${process.pid}n${++seq}-${tag}`;
  await addChannel(p.gw, { name: `ch-${model}`, models: [model], ...channelFor(p, kind, model), ...channel } as never);
  await setPrice(p.gw, model, PRICE);
  const user = await createUserWithKey(p.gw, { balance: 1_000_000 });
  return {
    model,
    client: user.client,
    ai: new GoogleGenAI({ apiKey: user.key, httpOptions: { baseUrl: p.gw.url } }),
    openai: new OpenAI({ apiKey: user.key, baseURL: `${p.gw.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: user.key, baseURL: p.gw.url, maxRetries: 0 }),
  };
}

/**
 * The call just made settled and moved the wallet by exactly `expected`; the model's newest log row
 * shows it. (Not billing.ts's expectBilled: these tests make several calls per user.)
 */
export async function expectCharged(client: ApiClient, model: string, before: any, expected: number, row: Record<string, unknown> = {}) {
  const after = await eventually(async () => {
    const w = await wallet(client);
    expect(w.held.quota).toBe(0);
    expect(w.requestCount).toBe(before.requestCount + 1);
    return w;
  });
  expect(after.balance.quota).toBe(before.balance.quota - expected);
  const logs = await client.get(`/api/logs?model=${encodeURIComponent(model)}`);
  expect(logs.body.items[0]).toMatchObject({ cost: { quota: expected }, ...row });
}

export const sentTo = (fake: FakeGemini, model: string) => fake.requests.filter((r) => r.model === model);

/** The channel's id, looked up by the name setup gave it. */
export const channelId = async (p: Providers, model: string): Promise<number> => (await p.gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.name === `ch-${model}`).id;
