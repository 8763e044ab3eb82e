// The openai SDK's chat completions against an anthropic channel (translated) end to end: the
// gateway → a fake Anthropic upstream. Every call must move the wallet by exactly the price-table cost.
import { countTokens } from 'gpt-tokenizer';
import OpenAI, { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { cost, HELLO, setup, WEATHER_TOOL } from './helpers/anthropic-caller.ts';
import { expectBilled, wallet } from './helpers/billing.ts';
import { eventually } from './helpers/poll.ts';
import { useChatFakes } from './helpers/chat-fakes.ts';

const f = useChatFakes();

describe('POST /v1/chat/completions → anthropic channel (translated)', () => {
  const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: f.gw.url + '/v1', maxRetries: 0, timeout: 20_000 });

  it('non-stream: a chat completion from the Anthropic message, billed from its usage incl. cache reads and writes', async () => {
    const s = await setup(f, 'anthropic', 'cached');
    const before = await wallet(s.client);
    const r = await openai(s.key).chat.completions.create({ model: s.model, max_tokens: 100, messages: [{ role: 'system', content: 'Be brief.' }, ...HELLO] });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe(s.model);
    expect(r.choices[0]!.message.content).toBe('tok '.repeat(8));
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 4 } });
    await expectBilled(s, before, cost({ promptTokens: 14, cachedTokens: 4, cacheWriteTokens: 2, completionTokens: 8 }), { estimated: false, stream: false });
    const sent = f.ant.requests.filter((q) => q.body?.model === s.model);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['x-api-key']).toBe(s.upstreamKey);
    expect(sent[0]!.body).toMatchObject({ system: 'Be brief.', max_tokens: 100, messages: [{ role: 'user' }] });
  });

  it('stream with include_usage: chunks from the Anthropic events, the usage chunk, [DONE]', async () => {
    const s = await setup(f, 'anthropic', 'stream');
    const before = await wallet(s.client);
    const stream = await openai(s.key).chat.completions.create({ model: s.model, max_tokens: 100, messages: HELLO, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: any;
    let finish: string | null = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('tok '.repeat(8));
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 8 });
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 8 }), { estimated: false, stream: true });
    expect(f.ant.requests.find((q) => q.body?.model === s.model)!.body.stream).toBe(true);
  });

  it('tools, stream and not: tool_calls with the Anthropic id and finish_reason tool_calls', async () => {
    for (const stream of [false, true]) {
      const s = await setup(f, 'anthropic', 'tools');
      const before = await wallet(s.client);
      const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: WEATHER_TOOL.input_schema } }];
      const params = { model: s.model, max_tokens: 100, messages: [{ role: 'user' as const, content: 'Weather in Paris?' }], tools };
      let calls: any[] = [];
      let finish: string | null = null;
      if (!stream) {
        const r = await openai(s.key).chat.completions.create(params);
        calls = r.choices[0]!.message.tool_calls ?? [];
        finish = r.choices[0]!.finish_reason;
      } else {
        const st = await openai(s.key).chat.completions.create({ ...params, stream: true });
        for await (const c of st) {
          for (const t of c.choices[0]?.delta?.tool_calls ?? []) {
            if (t.id) calls.push({ id: t.id, function: { name: t.function?.name, arguments: '' } });
            if (t.function?.arguments) calls.at(-1).function.arguments += t.function.arguments;
          }
          finish = c.choices[0]?.finish_reason ?? finish;
        }
      }
      expect(finish).toBe('tool_calls');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ id: expect.stringMatching(/^toolu_fake/), function: { name: 'get_weather' } });
      expect(JSON.parse(calls[0].function.arguments)).toEqual({ location: 'Paris' });
      await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: 12 }));
      expect(f.ant.requests.find((q) => q.body?.model === s.model)!.body.tools).toEqual([{ name: 'get_weather', input_schema: WEATHER_TOOL.input_schema }]);
    }
  });

  it('without max_tokens the Anthropic request carries the cap the hold was placed for', async () => {
    const s = await setup(f, 'anthropic', 'nocap');
    await openai(s.key).chat.completions.create({ model: s.model, messages: HELLO });
    const defaultCap = (await f.gw.admin.get('/api/admin/settings')).body.defaultMaxOutputTokens;
    expect(typeof defaultCap).toBe('number');
    expect(f.ant.requests.find((q) => q.body?.model === s.model)!.body.max_tokens).toBe(defaultCap);
  });

  it('a mid-stream cut ends with an in-band OpenAI error chunk and bills the delivered text', async () => {
    const s = await setup(f, 'anthropic', 'cut');
    const before = await wallet(s.client);
    const stream = await openai(s.key).chat.completions.create({ model: s.model, max_tokens: 100, messages: HELLO, stream: true });
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    })().catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(String(err.message)).toMatch(/interrupted the stream/);
    expect(text).toBe('tok '.repeat(3));
    const delivered = countTokens(text);
    await expectBilled(s, before, cost({ promptTokens: 10, completionTokens: delivered }), { completionTokens: delivered, status: 502, estimated: true });
  });

  it('n > 1 cannot go to Anthropic: 400 in OpenAI shape naming n, nothing billed', async () => {
    const s = await setup(f, 'anthropic', 'nchoices');
    const before = await wallet(s.client);
    const err = await openai(s.key).chat.completions.create({ model: s.model, max_tokens: 5, n: 2, messages: HELLO }).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('untranslatable_field');
    expect(err.param).toBe('n');
    expect(f.ant.requests.filter((q) => q.body?.model === s.model)).toHaveLength(0);
    const after = await eventually(async () => {
      const w = await wallet(s.client);
      expect(w.held.quota).toBe(0);
      return w;
    });
    expect(after.balance.quota).toBe(before.balance.quota);
  });
});
