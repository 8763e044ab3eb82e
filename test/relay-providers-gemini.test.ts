// gemini (AI Studio) channels end to end: the official SDKs → the gateway → a fake Gemini upstream
// speaking its real wire format (paths, x-goog-api-key, usageMetadata, error bodies). @google/genai
// passes through; the openai and Anthropic SDKs are translated. Every call moves the wallet by exactly
// the price-table cost. Also the channel config rules of the admin API. Shared setup: helpers/providers.ts.
import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { addChannel } from './helpers/gateway.ts';
import { channelId, cost, expectCharged, LOCATION, PROJECT, sentTo, serviceAccount, setup, useProviders } from './helpers/providers.ts';

const p = useProviders(['gemini']);

describe('gemini channels (AI Studio)', () => {
  it('@google/genai generateContent passes through: x-goog-api-key, usageMetadata with cached and thinking tokens billed', async () => {
    const s = await setup(p, 'gemini', 'cached-thinking');
    const before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'Say tok.', config: { maxOutputTokens: 5, thinkingConfig: { includeThoughts: true } } });
    expect(r.text).toBe('tok '.repeat(5));
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 10, candidatesTokenCount: 5, cachedContentTokenCount: 4, thoughtsTokenCount: 3 });
    // candidates 5 + thoughts 3 are output; 4 of the 10 prompt tokens were cached.
    await expectCharged(s.client, s.model, before, cost(10, 8, 4), { promptTokens: 10, completionTokens: 8, estimated: false, stream: false });
    const [sent] = sentTo(p.gem, s.model);
    expect(sent).toMatchObject({ path: `/v1beta/models/${s.model}:generateContent`, action: 'generateContent' });
    expect(sent!.headers['x-goog-api-key']).toBe(`gk-${s.model}`);
    expect(sent!.body.generationConfig).toEqual({ maxOutputTokens: 5, thinkingConfig: { includeThoughts: true } });
  });

  it('@google/genai streaming passes through (:streamGenerateContent?alt=sse), billed from the last usageMetadata', async () => {
    const s = await setup(p, 'gemini', 'plain');
    const before = await wallet(s.client);
    let text = '';
    for await (const chunk of await s.ai.models.generateContentStream({ model: s.model, contents: 'Say tok.', config: { maxOutputTokens: 6 } })) text += chunk.text ?? '';
    expect(text).toBe('tok '.repeat(6));
    await expectCharged(s.client, s.model, before, cost(10, 6), { completionTokens: 6, estimated: false, stream: true });
    const [sent] = sentTo(p.gem, s.model);
    expect(sent!.action).toBe('streamGenerateContent');
    expect(sent!.query.get('alt')).toBe('sse');
  });

  it('@anthropic-ai/sdk against a gemini channel (translated), non-stream and stream', async () => {
    const s = await setup(p, 'gemini', 'plain');
    let before = await wallet(s.client);
    const m = await s.anthropic.messages.create({ model: s.model, max_tokens: 5, system: 'Be brief.', messages: [{ role: 'user', content: 'Say tok.' }] });
    expect(m.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(5) }]);
    expect(m.stop_reason).toBe('max_tokens');
    expect(m.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    await expectCharged(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const sent = sentTo(p.gem, s.model)[0]!;
    expect(sent.body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] });

    before = await wallet(s.client);
    const final = await s.anthropic.messages.stream({ model: s.model, max_tokens: 7, messages: [{ role: 'user', content: 'Say tok.' }] }).finalMessage();
    expect(final.content).toMatchObject([{ type: 'text', text: 'tok '.repeat(7) }]);
    expect(final.usage).toMatchObject({ output_tokens: 7 });
    await expectCharged(s.client, s.model, before, cost(10, 7), { estimated: false, stream: true });
  });

  it('openai SDK streaming against a gemini channel (translated), usage chunk and exact cost', async () => {
    const s = await setup(p, 'gemini', 'plain');
    const before = await wallet(s.client);
    const stream = await s.openai.chat.completions.create({ model: s.model, max_tokens: 4, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let usage;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('tok '.repeat(4));
    expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4 });
    await expectCharged(s.client, s.model, before, cost(10, 4), { estimated: false, stream: true });
  });

  it('the model rename mapping goes into the URL; a 429 with retry-after fails over to the next gemini channel', async () => {
    const s = await setup(p, 'gemini', 'renamed', { modelMapping: {}, priority: 0 });
    const upstream = `${s.model}-upstream`;
    await addChannel(p.gw, { name: `ch-429-${s.model}`, type: 'gemini', baseUrl: p.gem.url, apiKey: 'gk-429', models: [s.model], priority: 10, modelMapping: { [s.model]: `${s.model}-error429` } } as never);
    await addChannel(p.gw, { name: `ch-map-${s.model}`, type: 'gemini', baseUrl: p.gem.url, apiKey: 'gk-map', models: [s.model], priority: 5, modelMapping: { [s.model]: upstream } } as never);
    const before = await wallet(s.client);
    const r = await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 3 } });
    expect(r.text).toBe('tok '.repeat(3));
    await expectCharged(s.client, s.model, before, cost(10, 3));
    expect(sentTo(p.gem, `${s.model}-error429`)).toHaveLength(1);
    expect(sentTo(p.gem, upstream)).toHaveLength(1);
  });

  it('key rotation: keys one per line are used in turn; a key the upstream rejects (403) is skipped', async () => {
    const s = await setup(p, 'gemini', 'rotate', { apiKey: 'revoked-k1\ngk-two\n\ngk-three\n' });
    for (let i = 0; i < 4; i++) {
      const r = await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 2 } });
      expect(r.text).toBe('tok tok ');
    }
    const used = sentTo(p.gem, s.model).map((r) => r.headers['x-goog-api-key']);
    expect(used.filter((k) => k === 'revoked-k1')).toHaveLength(1);
    expect(used.filter((k) => k !== 'revoked-k1')).toEqual(expect.arrayContaining(['gk-two', 'gk-three']));
    expect(used).toHaveLength(5); // 4 answers + the one rejected try
    const logs = await s.client.get(`/api/logs?model=${s.model}`);
    expect(logs.body.items).toHaveLength(4);
  });

  it('an upstream 400 is passed through in Google error shape and nothing is billed', async () => {
    const s = await setup(p, 'gemini', 'error400');
    const before = await wallet(s.client);
    await expect(s.ai.models.generateContent({ model: s.model, contents: 'hi' })).rejects.toMatchObject({ status: 400 });
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota);
  });

  it('a passthrough stream cut by the upstream ends with one Gemini error event; the delivered part is billed', async () => {
    const s = await setup(p, 'gemini', 'cut');
    const before = await wallet(s.client);
    const key = (s.ai as any).apiClient.clientOptions.apiKey as string;
    const res = await fetch(`${p.gw.url}/v1beta/models/${s.model}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    const text = await res.text();
    const events = text.split('\r\n\r\n').filter(Boolean);
    expect(events).toHaveLength(4);
    expect(JSON.parse(events[3]!.slice('data: '.length))).toMatchObject({ error: { code: 502, status: 'UNAVAILABLE' } });
    // usageMetadata said 3 candidates tokens so far; never fewer than our count of what was delivered.
    const delivered = Math.max(3, countTokens('tok tok tok '));
    await expectCharged(s.client, s.model, before, cost(10, delivered), { stream: true, completionTokens: delivered });
  });

  it(':countTokens is a free local estimate', async () => {
    const s = await setup(p, 'gemini', 'count');
    const before = await wallet(s.client);
    const r = await s.ai.models.countTokens({ model: s.model, contents: 'hello there world' });
    expect(r.totalTokens).toBe(countTokens('hello there world\n') + 4 + 3);
    expect((await wallet(s.client)).balance.quota).toBe(before.balance.quota);
    expect(sentTo(p.gem, s.model)).toHaveLength(0);
  });

  it(':embedContent and :batchEmbedContents go to the gemini channel, billed on the counted input', async () => {
    const s = await setup(p, 'gemini', 'embed');
    let before = await wallet(s.client);
    const one = await s.ai.models.embedContent({ model: s.model, contents: 'hello world' });
    expect(one.embeddings?.[0]?.values).toHaveLength(4);
    const tokens = (...texts: string[]) => countTokens(texts.map((t) => `${t}\n`).join('')) + 4 * texts.length + 3;
    await expectCharged(s.client, s.model, before, cost(tokens('hello world'), 0), { estimated: true, completionTokens: 0 });

    before = await wallet(s.client);
    const res = await fetch(`${p.gw.url}/v1beta/models/${s.model}:batchEmbedContents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': (s.ai as any).apiClient.clientOptions.apiKey },
      body: JSON.stringify({ requests: [{ model: `models/${s.model}`, content: { parts: [{ text: 'alpha beta' }] } }, { model: `models/${s.model}`, content: { parts: [{ text: 'gamma' }] } }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).embeddings).toHaveLength(2);
    await expectCharged(s.client, s.model, before, cost(tokens('alpha beta', 'gamma'), 0), { estimated: true });
    expect(sentTo(p.gem, s.model).map((r) => r.action)).toEqual(expect.arrayContaining(['batchEmbedContents']));
  });
});

describe('the Responses API over gemini and azure channels (translated to their chat protocol)', () => {
  it('gemini: openai SDK responses.create, non-stream and stream; the model in the URL, billed exactly', async () => {
    const s = await setup(p, 'gemini', 'plain');
    let before = await wallet(s.client);
    const r = await s.openai.responses.create({ model: s.model, input: 'Say tok.', instructions: 'Be brief.', max_output_tokens: 5 });
    expect(r.output_text).toBe('tok '.repeat(5));
    await expectCharged(s.client, s.model, before, cost(10, 5), { estimated: false, stream: false });
    const [sent] = sentTo(p.gem, s.model);
    expect(sent).toMatchObject({ path: `/v1beta/models/${s.model}:generateContent`, action: 'generateContent' });
    expect(sent!.body.model).toBeUndefined();
    expect(sent!.body.generationConfig).toMatchObject({ maxOutputTokens: 5 });

    before = await wallet(s.client);
    let text = '';
    for await (const e of await s.openai.responses.create({ model: s.model, input: 'Say tok.', max_output_tokens: 6, stream: true })) {
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    expect(text).toBe('tok '.repeat(6));
    await expectCharged(s.client, s.model, before, cost(10, 6), { estimated: false, stream: true });
    expect(sentTo(p.gem, s.model).at(-1)!.action).toBe('streamGenerateContent');
  });


});

describe('channel config in the admin API', () => {
  const base = { name: 'cfg', models: ['cfg-model'], baseUrl: 'https://example.com' };

  it('refuses fields a type does not take, missing required ones and unusable keys, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: 'azure', apiKey: 'k', config: { project: 'my-project-1' } }, 'config.project'],
      [{ type: 'openai', apiKey: 'k', config: { apiVersion: '2024-10-21' } }, 'config.apiVersion'],
      [{ type: 'vertex', apiKey: serviceAccount('https://oauth2.googleapis.com/token'), config: { location: 'us-central1' } }, 'config.project'],
      [{ type: 'vertex', apiKey: 'not json', config: { project: PROJECT, location: LOCATION } }, 'apiKey'],
      [{ type: 'azure', apiKey: 'k', config: { apiVersion: 'latest' } }, 'config.apiVersion'],
      [{ type: 'gemini', apiKey: 'k', config: { headers: { Host: 'evil' } } }, 'config.headers.Host'],
      [{ type: 'gemini', apiKey: ' \n ' }, 'apiKey'],
    ];
    for (const [body, field] of cases) {
      const r = await p.gw.admin.post('/api/admin/channels', { ...base, ...body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i: any) => i.path.join('.'))).toContain(field);
    }
  });

  it('extra headers reach the upstream, are write-only in the admin API, sealed at rest and kept by a patch', async () => {
    const s = await setup(p, 'gemini', 'hdr', { config: { headers: { 'x-goog-user-project': 'billing-proj', 'x-extra-secret': 's3cret' } } });
    const id = await channelId(p, s.model);
    const view = (await p.gw.admin.get(`/api/admin/channels/${id}`)).body;
    expect(view.config.headers).toEqual({ 'x-goog-user-project': '…', 'x-extra-secret': '…' });
    expect(view.apiKey).not.toContain(`gk-${s.model}`);
    const stored = await p.gw.gateway.db.get<{ config: string }>('SELECT config FROM channels WHERE id = ?', [id]);
    expect(stored!.config).toMatch(/^enc:v1:/);
    expect((await p.gw.admin.patch(`/api/admin/channels/${id}`, { weight: 3 })).status).toBe(200);
    await s.ai.models.generateContent({ model: s.model, contents: 'hi', config: { maxOutputTokens: 1 } });
    const sent = sentTo(p.gem, s.model).at(-1)!;
    expect(sent.headers['x-extra-secret']).toBe('s3cret');
    expect(sent.headers['x-goog-user-project']).toBe('billing-proj');
  });
});
