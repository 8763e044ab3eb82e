// Request translation between the OpenAI and Anthropic protocols, with realistic caller payloads:
// text, system prompts, images (URL and base64), tool definitions, tool calls and results with ids
// kept, thinking, and the typed errors for what cannot be translated. Gemini callers and channels are
// in translate-requests-gemini.test.ts; the round-trip properties in translate-roundtrip.test.ts.
import { describe, expect, it } from 'vitest';
import { anthropicToOpenAI, openaiToAnthropic } from '../src/relay/translate/index.ts';
import { anthropicAgentRequest, openaiAgentRequest, PNG, translationError, weatherSchema } from './helpers/translate-fixtures.ts';

describe('OpenAI caller → Anthropic channel', () => {
  it('translates system, images, tools and an answered tool call with its id', () => {
    const up = openaiToAnthropic.request(openaiAgentRequest as never);
    expect(up.model).toBe('claude-sonnet-4-5');
    expect(up.stream).toBe(true);
    expect(up.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: 'You are a weather bot.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is the weather where this photo was taken?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/paris.jpg' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', input: { location: 'Paris, France' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', content: [{ type: 'text', text: '{"temperature":14,"unit":"celsius"}' }] }] },
      ],
      temperature: 0.2,
      stop_sequences: ['\n\nUser:'],
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: weatherSchema }],
      tool_choice: { type: 'auto' },
      stream: true,
    });
  });

  it('puts tool results first and merges parallel results into one user turn', () => {
    const up = openaiToAnthropic.request({
      model: 'm',
      messages: [
        { role: 'user', content: 'two cities' },
        { role: 'assistant', content: 'Checking both.', tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'w', arguments: '{"l":"A"}' } },
          { id: 'call_b', type: 'function', function: { name: 'w', arguments: '{"l":"B"}' } },
        ] },
        { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: 'rain' }] },
        { role: 'user', content: 'and?' },
      ],
    });
    expect(up.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: [
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'call_a', name: 'w', input: { l: 'A' } },
        { type: 'tool_use', id: 'call_b', name: 'w', input: { l: 'B' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'call_a', content: [{ type: 'text', text: 'sunny' }] },
        { type: 'tool_result', tool_use_id: 'call_b', content: [{ type: 'text', text: 'rain' }] },
        { type: 'text', text: 'and?' },
      ] },
    ]);
  });

  it('uses the default output cap when the caller sets none, maps tool_choice and reasoning_effort', () => {
    const up = openaiToAnthropic.request(
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'f' } }, parallel_tool_calls: false, reasoning_effort: 'low', user: 'u1' },
      {},
      { defaultMaxTokens: 16_000 },
    );
    expect(up.body.max_tokens).toBe(16_000);
    expect(up.body.tools).toEqual([{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
    expect(up.body.tool_choice).toEqual({ type: 'tool', name: 'f', disable_parallel_tool_use: true });
    expect(up.body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(up.body.metadata).toEqual({ user_id: 'u1' });
  });

  it('keeps cache_control hints some OpenAI clients send on text parts', () => {
    const up = openaiToAnthropic.request({ model: 'm', messages: [{ role: 'system', content: [{ type: 'text', text: 'big doc', cache_control: { type: 'ephemeral' } }] }, { role: 'user', content: 'q' }] });
    expect(up.body.system).toEqual([{ type: 'text', text: 'big doc', cache_control: { type: 'ephemeral' } }]);
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ temperature: 1.5 }, 'temperature'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
    [{ messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'late' }] }, 'messages[1].role'],
    [{ messages: [{ role: 'tool', tool_call_id: 'call_x', content: 'orphan' }] }, 'messages[0].tool_call_id'],
    [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] }] }, 'messages[1].tool_calls[0].arguments'],
    [{ max_completion_tokens: 1000, reasoning_effort: 'high', messages: [{ role: 'user', content: 'q' }] }, 'reasoning_effort'],
  ])('refuses %j naming %s', (extra, field) => {
    const err = translationError(() => openaiToAnthropic.request({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra } as never));
    expect(err.field).toBe(field);
    expect(err.reason.length).toBeGreaterThan(10);
  });
});

describe('Anthropic caller → OpenAI channel', () => {
  it('translates cached system blocks, images, thinking history, tool_use and tool_result with ids', () => {
    const up = anthropicToOpenAI.request(anthropicAgentRequest as never);
    expect(up.body).toEqual({
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: 'You are Claude Code.\n\nProject rules: be brief.' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'text', text: 'List the files.' }] },
        { role: 'assistant', content: 'Running ls.', tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: 'README.md\nsrc' },
        { role: 'user', content: 'Now summarise.' },
      ],
      max_completion_tokens: 8192,
      user: 'user_42',
      tools: [{ type: 'function', function: { name: 'Bash', description: 'Run a shell command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } } }],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      reasoning_effort: 'medium',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('leaves reasoning out for a model that takes none, and marks tool errors', () => {
    const up = anthropicToOpenAI.request(
      {
        model: 'gpt-4o', max_tokens: 100, thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'boom', is_error: true }] },
        ],
      },
      {},
      { reasoning: false },
    );
    expect(up.body.reasoning_effort).toBeUndefined();
    expect(up.body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'toolu_1', content: 'Error: boom' });
    expect(up.body.messages[1]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' } }] });
  });

  it.each([
    [{ top_k: 5 }, 'top_k'],
    [{ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    [{ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }, 'messages[0].content[0].source.type'],
    [{ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'x' }] }] }, 'messages[0].content[0].tool_use_id'],
    [{ stop_sequences: ['a', 'b', 'c', 'd', 'e'] }, 'stop_sequences'],
    [{ mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] }, 'mcp_servers'],
  ])('refuses %j naming %s', (extra, field) => {
    const err = translationError(() => anthropicToOpenAI.request({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra } as never));
    expect(err.field).toBe(field);
  });

  it('refuses an image inside a tool result (OpenAI tool messages hold text only)', () => {
    const err = translationError(() =>
      anthropicToOpenAI.request({
        model: 'm', max_tokens: 10,
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'shot', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] }] },
        ],
      }),
    );
    expect(err.field).toBe('messages[1].content[0].content[0]');
  });
});
