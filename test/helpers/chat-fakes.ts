// Shared by the relay tests of the Anthropic and Gemini inbound surfaces: a gateway with a fake
// Anthropic and a fake OpenAI upstream, and a funded model on a channel of either type.
import { afterAll, beforeAll } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.ts';
import { funded } from './billing.ts';
import { startGateway, type setPrice, type TestGateway } from './gateway.ts';

/** Filled in by beforeAll. */
export interface ChatFakes {
  gw: TestGateway;
  ant: FakeAnthropic;
  oai: FakeOpenAI;
}

/** Starts (before the file's tests) and stops (after them) the gateway and both fakes. */
export function useChatFakes(): ChatFakes {
  const f = {} as ChatFakes;
  beforeAll(async () => {
    [f.ant, f.oai] = await Promise.all([startFakeAnthropic(), startFakeOpenAI()]);
    f.gw = await startGateway();
  });
  afterAll(async () => {
    await f.gw?.close();
    await f.ant?.close();
    await f.oai?.close();
  });
  return f;
}

export type UpstreamKind = 'anthropic' | 'openai';

/** A model (its name ends in `tag`, which picks the fakes' behaviour) on a fresh channel of `kind`, its price and a funded user. */
export async function fundedOn(f: ChatFakes, kind: UpstreamKind, tag: string, price: Parameters<typeof setPrice>[2], balance?: number) {
  const s = await funded(f.gw, kind === 'anthropic' ? f.ant.url : f.oai.url, tag, { price, channel: { type: kind }, balance });
  return { ...s, upstreamKey: `sk-upstream-${s.model}` };
}
