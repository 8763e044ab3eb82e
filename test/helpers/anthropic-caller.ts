// Shared by relay-anthropic and relay-anthropic-chat: their price (with cache reads and writes), the
// request bodies they send, and a funded model whose user calls through @anthropic-ai/sdk.
import Anthropic from '@anthropic-ai/sdk';
import { costOf, type Price } from '../../src/pricing/cost.ts';
import { fundedOn, type ChatFakes, type UpstreamKind } from './chat-fakes.ts';

// USD per 1M tokens: 1 point per input token, 4 per output token, 0.1 per cached read, 1.25 per cache write.
const PRICE = { input: '2', output: '8', cachedInput: '0.2', cacheWrite: '2.5' };
const PRICE_TABLE: Price = { input: 2_000_000n, output: 8_000_000n, cachedInput: 200_000n, cacheWrite: 2_500_000n, perRequest: null, maxOutputTokens: null };
export const cost = (u: { promptTokens: number; completionTokens: number; cachedTokens?: number; cacheWriteTokens?: number }) =>
  costOf(PRICE_TABLE, 1_000_000n, { cachedTokens: 0, ...u });

export const HELLO = [{ role: 'user' as const, content: 'Say tok.' }];
export const WEATHER_TOOL = { name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

export const sdkFor = (f: ChatFakes, key: string, opts: Record<string, unknown> = {}) => new Anthropic({ apiKey: key, baseURL: f.gw.url, maxRetries: 0, timeout: 20_000, ...opts });

/** A model on a fresh `kind` channel; `sdk` is the funded user's Anthropic client. */
export async function setup(f: ChatFakes, kind: UpstreamKind, tag: string, balance = 1_000_000) {
  const s = await fundedOn(f, kind, tag, PRICE, balance);
  return { model: s.model, upstreamKey: s.upstreamKey, client: s.client, key: s.key, sdk: sdkFor(f, s.key) };
}
