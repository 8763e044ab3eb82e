// azure (Azure OpenAI) channels end to end: the official SDKs → the gateway → a fake Azure upstream
// (deployment paths, api-version, api-key header). Every call moves the wallet by exactly the
// price-table cost. Shared setup: helpers/providers.ts.
import { describe, expect, it } from 'vitest';
import { TOKENS_PER_INPUT } from './fakes/openai-surfaces.ts';
import { wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { channelId, cost, expectCharged, setup, useProviders } from './helpers/providers.ts';

const p = useProviders(['azure']);

describe('azure channels (Azure OpenAI)', () => {
  it('openai SDK chat, non-stream and stream: deployment path, api-version and api-key; billed exactly', async () => {
    const s = await setup(p, 'azure', 'az', { config: { apiVersion: '2025-04-01-preview', deployments: {} } });
    const deployment = `${s.model}-dep`;
    await p.gw.admin.patch(`/api/admin/channels/${await channelId(p, s.model)}`, { config: { deployments: { [s.model]: deployment } } });
    let before = await wallet(s.client);
    const r = await s.openai.chat.completions.create({ model: s.model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('tok '.repeat(5));
    await expectCharged(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const sent = p.az.requests.filter((q) => q.deployment === deployment);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(`/openai/deployments/${deployment}/chat/completions`);
    expect(sent[0]!.query.get('api-version')).toBe('2025-04-01-preview');
    expect(sent[0]!.headers['api-key']).toBe(`ak-${s.model}`);
    expect(sent[0]!.headers.authorization).toBeUndefined();

    before = await wallet(s.client);
    let text = '';
    for await (const c of await s.openai.chat.completions.create({ model: s.model, max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'hi' }] })) {
      text += c.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('tok '.repeat(3));
    await expectCharged(s.client, s.model, before, cost(10, 3), { estimated: false, stream: true });
  });

  it('@anthropic-ai/sdk against an azure channel (translated); a model without a mapping is its own deployment', async () => {
    const s = await setup(p, 'azure', 'az-cached');
    const before = await wallet(s.client);
    const m = await s.anthropic.messages.create({ model: s.model, max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
    expect(m.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(4) }]);
    expect(m.usage).toMatchObject({ input_tokens: 6, cache_read_input_tokens: 4, output_tokens: 4 });
    await expectCharged(s.client, s.model, before, cost(10, 4, 4));
    expect(p.az.requests.filter((q) => q.deployment === s.model)).toHaveLength(1);
  });

  it('key rotation over azure keys: a revoked key (401) is skipped, the others alternate', async () => {
    const s = await setup(p, 'azure', 'az-rot', { apiKey: 'revoked-a\nak-b\nak-c' });
    for (let i = 0; i < 4; i++) await s.openai.chat.completions.create({ model: s.model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] });
    const keys = p.az.requests.filter((q) => q.deployment === s.model).map((q) => q.headers['api-key']);
    expect(keys.filter((k) => k === 'revoked-a')).toHaveLength(1);
    expect(keys.filter((k) => k === 'ak-b').length).toBeGreaterThanOrEqual(1);
    expect(keys.filter((k) => k === 'ak-c').length).toBeGreaterThanOrEqual(1);
    expect(keys).toHaveLength(5);
  });

  it('an azure channel whose every key is rejected is auto-disabled with the reason; the caller gets a 502 in its shape, nothing billed', async () => {
    const s = await setup(p, 'azure', 'az-dead', { apiKey: 'revoked-x' });
    const before = await wallet(s.client);
    await expect(s.openai.chat.completions.create({ model: s.model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 502,
      error: { code: 'upstream_error' },
    });
    await eventually(async () => expect((await wallet(s.client)).held.quota).toBe(0));
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    const ch = (await p.gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.name === `ch-${s.model}`);
    expect(ch).toMatchObject({ status: 'auto_disabled', statusReason: expect.stringContaining('401') });
  });
});

describe('azure channels serve the other OpenAI surfaces under the deployment', () => {
  it('embeddings and legacy completions go to /openai/deployments/{deployment}/…?api-version, billed on the usage', async () => {
    const s = await setup(p, 'azure', 'az-emb', { config: { apiVersion: '2024-10-21', deployments: {} } });
    const deployment = `${s.model}-emb`;
    const id = await channelId(p, s.model);
    await p.gw.admin.patch(`/api/admin/channels/${id}`, { config: { deployments: { [s.model]: deployment } } });
    let before = await wallet(s.client);
    const e = await s.openai.embeddings.create({ model: s.model, input: ['one', 'two'] });
    expect(e.data).toHaveLength(2);
    await expectCharged(s.client, s.model, before, cost(2 * TOKENS_PER_INPUT, 0), { promptTokens: 2 * TOKENS_PER_INPUT, estimated: false });
    const sent = p.az.requests.filter((q) => q.deployment === deployment);
    expect(sent.at(-1)!.path).toBe(`/openai/deployments/${deployment}/embeddings`);
    expect(sent.at(-1)!.query.get('api-version')).toBe('2024-10-21');
    expect(sent.at(-1)!.headers['api-key']).toBe(`ak-${s.model}`);

    before = await wallet(s.client);
    const c = await s.openai.completions.create({ model: s.model, prompt: 'Say tok', max_tokens: 4 });
    expect(c.choices[0]!.text.length).toBeGreaterThan(0);
    expect(p.az.requests.filter((q) => q.deployment === deployment).at(-1)!.path).toBe(`/openai/deployments/${deployment}/completions`);
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.requestCount).toBe(before.requestCount + 1);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota - cost(c.usage!.prompt_tokens, c.usage!.completion_tokens));
  });
});

describe('the Responses API over gemini and azure channels (translated to their chat protocol)', () => {

  it('azure: openai SDK responses.create goes to the deployment as chat completions, non-stream and stream, billed exactly', async () => {
    const s = await setup(p, 'azure', 'az-resp');
    let before = await wallet(s.client);
    const r = await s.openai.responses.create({ model: s.model, input: 'hi', max_output_tokens: 5 });
    expect(r.output_text).toBe('tok '.repeat(5));
    await expectCharged(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const sent = p.az.requests.filter((q) => q.deployment === s.model);
    expect(sent.at(-1)!.path).toBe(`/openai/deployments/${s.model}/chat/completions`);

    before = await wallet(s.client);
    let text = '';
    for await (const e of await s.openai.responses.create({ model: s.model, input: 'hi', max_output_tokens: 3, stream: true })) {
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    expect(text).toBe('tok '.repeat(3));
    await expectCharged(s.client, s.model, before, cost(10, 3), { estimated: false, stream: true });
  });
});
