// vertex (Vertex AI) channels end to end: the service account's key exchanged for an OAuth token at a
// fake token endpoint, then the fake Gemini upstream under the project and location path. Every call
// moves the wallet by exactly the price-table cost. Shared setup: helpers/providers.ts.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { cost, expectCharged, LOCATION, PROJECT, sentTo, serviceAccount, setup, useProviders } from './helpers/providers.ts';

const p = useProviders(['vertex']);

describe('vertex channels (Vertex AI)', () => {
  it('@google/genai generateContent and streaming: the service account gets one OAuth token (JWT bearer grant), reused', async () => {
    const s = await setup(p, 'vertex', 'vx');
    const tokensBefore = p.vtx.tokenRequests;
    let before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 5 } });
    expect(r.text).toBe('tok '.repeat(5));
    await expectCharged(s.client, s.model, before, cost(10, 5), { estimated: false });
    const sent = sentTo(p.vtx, s.model);
    expect(sent[0]!.path).toBe(`/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${s.model}:generateContent`);
    expect(sent[0]!.headers.authorization).toMatch(/^Bearer ya29\.fake/);

    before = await wallet(s.client);
    let text = '';
    for await (const c of await s.ai.models.generateContentStream({ model: s.model, contents: 'hi', config: { maxOutputTokens: 2 } })) text += c.text ?? '';
    expect(text).toBe('tok tok ');
    await expectCharged(s.client, s.model, before, cost(10, 2), { stream: true });
    expect(p.vtx.tokenRequests - tokensBefore).toBe(1);
  });

  it('@anthropic-ai/sdk streaming against a vertex channel (translated)', async () => {
    const s = await setup(p, 'vertex', 'vx-cached');
    const before = await wallet(s.client);
    const final = await s.anthropic.messages.stream({ model: s.model, max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(final.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(3) }]);
    await expectCharged(s.client, s.model, before, cost(10, 3, 4), { stream: true });
  });

  it('a token endpoint that refuses the service account → 502 in the caller shape, nothing billed', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const s = await setup(p, 'vertex', 'vx-badkey', { apiKey: serviceAccount(`${p.vtx.url}/token`, other) });
    const before = await wallet(s.client);
    await expect(s.ai.models.generateContent({ model: s.model, contents: 'hi' })).rejects.toMatchObject({ status: 502 });
    await eventually(async () => expect((await wallet(s.client)).held.quota).toBe(0));
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    expect(sentTo(p.vtx, s.model)).toHaveLength(0);
  });
});
