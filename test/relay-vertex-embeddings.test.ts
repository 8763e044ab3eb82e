// Embeddings on vertex channels: an OpenAI /v1/embeddings call and a Gemini :embedContent /
// :batchEmbedContents call, each translated to Vertex AI's `:predict` (instances in, predictions
// out) against the fake Vertex upstream, authenticated with the service-account OAuth token flow.
// Each call must move the wallet by exactly the token counts Vertex reports (or, when it reports
// none, a tokenizer count flagged estimated).
import { GoogleGenAI } from '@google/genai';
import { countTokens } from 'gpt-tokenizer';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { EMBED_TOKENS_PER_WORD } from './fakes/gemini-upstream.ts';
import { expectBilled, uniqueModel, wallet, type Funded } from './helpers/billing.ts';
import { addChannel, createUserWithKey, setPrice } from './helpers/gateway.ts';
import { LOCATION, PROJECT, serviceAccount, useProviders } from './helpers/providers.ts';

const p = useProviders(['vertex']);

/** A model on its own vertex channel, priced at 1 point per input token. */
async function setup(tag: string, channel: Record<string, unknown> = {}, model = uniqueModel(tag)): Promise<Funded & { ai: GoogleGenAI }> {
  await addChannel(p.gw, { name: `vx-${model}`, type: 'vertex', baseUrl: p.vtx.url, apiKey: serviceAccount(`${p.vtx.url}/token`), models: [model], config: { project: PROJECT, location: LOCATION }, ...channel });
  await setPrice(p.gw, model, { input: '2', output: '8' });
  const user = await createUserWithKey(p.gw, { balance: 1_000_000 });
  return { model, ...user, sdk: new OpenAI({ apiKey: user.key, baseURL: `${p.gw.url}/v1`, maxRetries: 0 }), ai: new GoogleGenAI({ apiKey: user.key, httpOptions: { baseUrl: p.gw.url } }) };
}

const predictPath = (model: string) => `/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${model}:predict`;
const sentTo = (model: string) => p.vtx.requests.filter((r) => r.model === model);
/** The fake's vector for a text: [0.1, -0.2, 0.3, words / 100]. */
const vectorOf = (text: string) => [0.1, -0.2, 0.3, text.split(/\s+/).filter(Boolean).length / 100];

describe('OpenAI /v1/embeddings on a vertex channel', () => {
  it('goes to :predict with a service-account token; the vectors come back (SDK base64) and the token counts are billed', async () => {
    const s = await setup('embed');
    const before = await wallet(s.client);
    const r = await s.sdk.embeddings.create({ model: s.model, input: ['hello mole world', 'dig'] });
    expect(r.object).toBe('list');
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    // The SDK asks for base64 and decodes float32: compare at float32 precision.
    expect(r.data[0]!.embedding.map((v) => Math.fround(v))).toEqual(vectorOf('hello mole world').map(Math.fround));
    const tokens = EMBED_TOKENS_PER_WORD * 4;
    expect(r.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    await expectBilled(s, before, tokens, { promptTokens: tokens, completionTokens: 0, estimated: false });
    const [sent] = sentTo(s.model);
    expect(sent!.path).toBe(predictPath(s.model));
    expect(sent!.body).toEqual({ instances: [{ content: 'hello mole world' }, { content: 'dig' }] });
    expect(sent!.headers.authorization).toMatch(/^Bearer ya29\.fake/);
  });

  it('float vectors and dimensions (→ parameters.outputDimensionality); a mapped model is the one in the path', async () => {
    const model = uniqueModel('embed-dims');
    const upstream = uniqueModel('text-embedding');
    const s = await setup('embed-dims', { modelMapping: { [model]: upstream } }, model);
    const before = await wallet(s.client);
    const res = await fetch(`${p.gw.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'one two', encoding_format: 'float', dimensions: 2 }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2] }], model, usage: { prompt_tokens: 4, total_tokens: 4 } });
    await expectBilled(s, before, 4, { estimated: false });
    const [sent] = sentTo(upstream);
    expect(sent!.path).toBe(predictPath(upstream));
    expect(sent!.body).toEqual({ instances: [{ content: 'one two' }], parameters: { outputDimensionality: 2 } });
  });

  it('predictions without token counts are billed on a tokenizer count, flagged estimated', async () => {
    const s = await setup('embed-nostats');
    const before = await wallet(s.client);
    await s.sdk.embeddings.create({ model: s.model, input: ['hello mole world', 'dig'] });
    await expectBilled(s, before, countTokens('hello mole world\ndig'), { estimated: true });
  });

  it("a Vertex refusal is the caller's 400 in OpenAI's shape; nothing is charged", async () => {
    const s = await setup('embed-error400');
    const before = await wallet(s.client);
    const err = await s.sdk.embeddings.create({ model: s.model, input: 'x' }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ code: 'upstream_refused', message: expect.stringContaining('input token count') });
    const after = await wallet(s.client);
    expect(after.balance.quota).toBe(before.balance.quota);
    expect(after.held.quota).toBe(0);
    const log = (await s.client.get(`/api/logs?model=${encodeURIComponent(s.model)}`)).body.items[0];
    expect(log).toMatchObject({ status: 400, cost: { quota: 0 } });
  });
});

describe('Gemini :embedContent / :batchEmbedContents on a vertex channel', () => {
  it('@google/genai embedContent is answered in Gemini shape, billed from Vertex token counts', async () => {
    const s = await setup('gembed');
    const before = await wallet(s.client);
    const r = await s.ai.models.embedContent({ model: s.model, contents: ['alpha beta', 'gamma'] });
    expect(r.embeddings?.map((e) => e.values)).toEqual([vectorOf('alpha beta'), vectorOf('gamma')]);
    await expectBilled(s, before, EMBED_TOKENS_PER_WORD * 3, { estimated: false });
    expect(sentTo(s.model).at(-1)!.body).toEqual({ instances: [{ content: 'alpha beta' }, { content: 'gamma' }] });
  });

  it(':embedContent with taskType, title and outputDimensionality', async () => {
    const s = await setup('gembed-one');
    const before = await wallet(s.client);
    const res = await fetch(`${p.gw.url}/v1beta/models/${s.model}:embedContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': s.key },
      body: JSON.stringify({ content: { parts: [{ text: 'the mole' }, { text: 'digs' }] }, taskType: 'RETRIEVAL_DOCUMENT', title: 'Moles', outputDimensionality: 3 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ embedding: { values: [0.1, -0.2, 0.3] } });
    await expectBilled(s, before, EMBED_TOKENS_PER_WORD * 3, { estimated: false });
    expect(sentTo(s.model).at(-1)!.body).toEqual({ instances: [{ content: 'the mole\ndigs', task_type: 'RETRIEVAL_DOCUMENT', title: 'Moles' }], parameters: { outputDimensionality: 3 } });
  });
});
