// Request translation for every (inbound × provider) pair, with realistic caller payloads: text,
// system prompts, images (URL and base64), tool definitions, tool calls and results with ids kept,
// thinking, and the typed errors for what cannot be translated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../src/relay/translate/codecs.ts';
import type { ChatRequest, Message, Part, Protocol } from '../src/relay/translate/ir.ts';
import {
  anthropicToGemini,
  anthropicToOpenAI,
  geminiToAnthropic,
  geminiToOpenAI,
  openaiToAnthropic,
  openaiToGemini,
  TranslationError,
} from '../src/relay/translate/index.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const weatherSchema = { type: 'object', properties: { location: { type: 'string', description: 'City and country' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] };

/** An OpenAI agent turn as the openai SDK sends it: system, image, an answered tool call. */
const openaiAgentRequest = {
  model: 'claude-sonnet-4-5',
  messages: [
    { role: 'system', content: 'You are a weather bot.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is the weather where this photo was taken?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: 'image_url', image_url: { url: 'https://example.com/paris.jpg', detail: 'high' } },
      ],
    },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } }] },
    { role: 'tool', tool_call_id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', content: '{"temperature":14,"unit":"celsius"}' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherSchema } }],
  tool_choice: 'auto',
  max_completion_tokens: 1024,
  temperature: 0.2,
  stop: ['\n\nUser:'],
  stream: true,
  stream_options: { include_usage: true },
} as const;

/** A Claude Code style Anthropic request: cached system blocks, thinking, tool_use / tool_result. */
const anthropicAgentRequest = {
  model: 'gpt-4.1',
  max_tokens: 8192,
  system: [
    { type: 'text', text: 'You are Claude Code.' },
    { type: 'text', text: 'Project rules: be brief.', cache_control: { type: 'ephemeral' } },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'text', text: 'List the files.' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should run ls.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' },
        { type: 'text', text: 'Running ls.' },
        { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'Bash', input: { command: 'ls' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: [{ type: 'text', text: 'README.md\nsrc' }] },
        { type: 'text', text: 'Now summarise.' },
      ],
    },
  ],
  tools: [{ name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  thinking: { type: 'enabled', budget_tokens: 4000 },
  metadata: { user_id: 'user_42' },
  stream: true,
} as const;

/** A Gemini request as @google/genai sends it: systemInstruction, inline image, a functionCall round. */
const geminiAgentRequest = {
  contents: [
    { role: 'user', parts: [{ text: 'Weather in the photo?' }, { inlineData: { mimeType: 'image/jpeg', data: PNG } }] },
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb7' }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '14 C, cloudy' } } }] },
  ],
  systemInstruction: { parts: [{ text: 'You are a weather bot.' }] },
  tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parameters: { type: 'OBJECT', properties: { location: { type: 'STRING' } }, required: ['location'] } }] }],
  toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
  generationConfig: { maxOutputTokens: 4096, temperature: 0.7, stopSequences: ['END'], thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } },
};

function translationError(fn: () => unknown): TranslationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TranslationError) return err;
    throw err;
  }
  throw new Error('expected a TranslationError');
}

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

describe('Gemini caller → OpenAI / Anthropic channels', () => {
  it('to OpenAI: model and stream from the URL, ids made up and paired with their responses', () => {
    const up = geminiToOpenAI.request(geminiAgentRequest as never, { model: 'gpt-4o', stream: true });
    expect(up.model).toBe('gpt-4o');
    expect(up.stream).toBe(true);
    expect(up.body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a weather bot.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in the photo?' }, { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG}` } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '14 C, cloudy' },
      ],
      max_completion_tokens: 4096,
      temperature: 0.7,
      stop: ['END'],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
    });
    const withTopK = { ...geminiAgentRequest, generationConfig: { ...geminiAgentRequest.generationConfig, topK: 40 } };
    expect(translationError(() => geminiToOpenAI.request(withTopK as never, { model: 'gpt-4o' })).field).toBe('generationConfig.topK');
  });

  it('to Anthropic: functionResponse becomes a tool_result for the same id; thinking budget kept', () => {
    const withTopK = { ...geminiAgentRequest, generationConfig: { ...geminiAgentRequest.generationConfig, topK: 40 } };
    const up = geminiToAnthropic.request(withTopK as never, { model: 'claude-sonnet-4-5', stream: false });
    expect(up.stream).toBe(false);
    expect(up.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'You are a weather bot.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in the photo?' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: '14 C, cloudy' }] }] },
      ],
      temperature: 0.7,
      top_k: 40,
      stop_sequences: ['END'],
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }],
      tool_choice: { type: 'tool', name: 'get_weather' },
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
  });

  it('pairs id-less calls of one name with their responses in order, and puts tool results first for Anthropic', () => {
    const up = geminiToAnthropic.request({
      contents: [
        { role: 'user', parts: [{ text: 'Paris and Rome?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'w', args: { l: 'Paris' } } }, { functionCall: { name: 'w', args: { l: 'Rome' } } }] },
        { role: 'user', parts: [{ text: 'here:' }, { functionResponse: { name: 'w', response: { output: 'sun' } } }, { functionResponse: { name: 'w', response: { error: 'no data' } } }] },
      ],
    }, { model: 'claude' });
    expect(up.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'w', input: { l: 'Paris' } }, { type: 'tool_use', id: 'call_2', name: 'w', input: { l: 'Rome' } }] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'sun' }] },
        { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: 'no data' }], is_error: true },
        { type: 'text', text: 'here:' },
      ] },
    ]);
  });

  it.each([
    [{ tools: [{ googleSearch: {} }] }, 'tools[0].googleSearch'],
    [{ generationConfig: { candidateCount: 2 } }, 'generationConfig.candidateCount'],
    [{ generationConfig: { responseModalities: ['IMAGE'] } }, 'generationConfig.responseModalities'],
    [{ cachedContent: 'cachedContents/abc' }, 'cachedContent'],
    [{ contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }] }] }, 'contents[0].parts[0].fileData.mimeType'],
    [{ contents: [{ role: 'user', parts: [{ functionResponse: { name: 'nobody', response: {} } }] }] }, 'contents[0].parts[0].functionResponse'],
  ])('refuses %j naming %s', (extra, field) => {
    const err = translationError(() => geminiToAnthropic.request({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], ...extra } as never, { model: 'm' }));
    expect(err.field).toBe(field);
  });
});

describe('OpenAI / Anthropic callers → Gemini channel', () => {
  it('OpenAI → Gemini: systemInstruction, inlineData, fileData, functionCall with id and signature placeholder', () => {
    const up = openaiToGemini.request(openaiAgentRequest as never);
    expect(up.model).toBe('claude-sonnet-4-5');
    expect(up.stream).toBe(true);
    expect(up.body).toEqual({
      contents: [
        { role: 'user', parts: [
          { text: 'What is the weather where this photo was taken?' },
          { inlineData: { mimeType: 'image/png', data: PNG } },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/paris.jpg' } },
        ] },
        { role: 'model', parts: [{ functionCall: { id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', args: { location: 'Paris, France' } }, thoughtSignature: 'skip_thought_signature_validator' }] },
        { role: 'user', parts: [{ functionResponse: { id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', response: { output: '{"temperature":14,"unit":"celsius"}' } } }] },
      ],
      systemInstruction: { parts: [{ text: 'You are a weather bot.' }] },
      generationConfig: { maxOutputTokens: 1024, temperature: 0.2, stopSequences: ['\n\nUser:'] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parametersJsonSchema: weatherSchema }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });
  });

  it('OpenAI → Gemini: json_schema output, reasoning effort, required tools', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const up = openaiToGemini.request({
      model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'r', schema } },
      reasoning_effort: 'high', tools: [{ type: 'function', function: { name: 'f', parameters: schema } }], tool_choice: 'required', seed: 7,
    });
    expect(up.body.generationConfig).toEqual({ seed: 7, responseMimeType: 'application/json', responseJsonSchema: schema, thinkingConfig: { thinkingBudget: 24_576, includeThoughts: true } });
    expect(up.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
  });

  it('Anthropic → Gemini: tool_result errors become {error}, signed thinking is not replayed', () => {
    const up = anthropicToGemini.request(anthropicAgentRequest as never);
    expect(up.body.contents).toEqual([
      { role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: PNG } }, { text: 'List the files.' }] },
      { role: 'model', parts: [{ text: 'Running ls.' }, { functionCall: { id: 'toolu_01A09q90qw90lq917835lq9', name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'skip_thought_signature_validator' }] },
      { role: 'user', parts: [{ functionResponse: { id: 'toolu_01A09q90qw90lq917835lq9', name: 'Bash', response: { output: 'README.md\nsrc' } } }, { text: 'Now summarise.' }] },
    ]);
    expect(up.body.systemInstruction).toEqual({ parts: [{ text: 'You are Claude Code.' }, { text: 'Project rules: be brief.' }] });
    expect(up.body.generationConfig).toEqual({ maxOutputTokens: 8192, thinkingConfig: { thinkingBudget: 4000, includeThoughts: true } });
    const err = anthropicToGemini.request({
      model: 'g', max_tokens: 5,
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'denied', is_error: true }] },
      ],
    });
    expect(err.body.contents[1]).toEqual({ role: 'user', parts: [{ functionResponse: { id: 'toolu_1', name: 'f', response: { error: 'denied' } } }] });
  });

  it('refuses an image URL whose type Gemini cannot be told', () => {
    const err = translationError(() => openaiToGemini.request({ model: 'g', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/render?id=1' } }] }] }));
    expect(err.field).toBe('messages[0].content[0]');
  });
});

// ---- round trips: a conversation encoded for a protocol and decoded again is the same conversation ----


const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.!?é☕]{0,30}$/);
const args = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 }).map((o) => JSON.stringify(o));

/** user (text, or results for every call of the previous turn) / assistant (text and/or calls), alternating. */
const conversation = (withErrors: boolean) =>
  fc.array(fc.record({ text: fc.option(word, { nil: undefined }), calls: fc.array(fc.record({ name: fc.stringMatching(/^[a-z_]{1,10}$/), args }), { maxLength: 2 }), results: fc.array(fc.record({ text: word, isError: withErrors ? fc.boolean() : fc.constant(false) }), { minLength: 2, maxLength: 2 }), userText: word }), { minLength: 1, maxLength: 4 }).map((turns) => {
    const messages: Message[] = [];
    let id = 0;
    turns.forEach((t, i) => {
      const prev = messages[messages.length - 1];
      const calls = prev?.role === 'assistant' ? prev.parts.filter((p) => p.type === 'tool_call') : [];
      messages.push({ role: 'user', parts: [...calls.map((c, k): Part => ({ type: 'tool_result', toolCallId: (c as { id: string }).id, name: (c as { name: string }).name, content: [{ type: 'text', text: t.results[k]!.text }], isError: t.results[k]!.isError })), { type: 'text', text: t.userText }] });
      if (i < turns.length - 1 || t.text || t.calls.length) {
        const parts: Part[] = [...(t.text ? [{ type: 'text' as const, text: t.text }] : []), ...t.calls.map((c): Part => ({ type: 'tool_call', id: `call_${++id}`, name: c.name, arguments: c.args }))];
        if (parts.length === 0) parts.push({ type: 'text', text: 'ok' });
        messages.push({ role: 'assistant', parts });
      }
    });
    return messages;
  });

const request = (withErrors: boolean) =>
  fc.record({ messages: conversation(withErrors), system: fc.option(word, { nil: undefined }), max: fc.integer({ min: 1, max: 100_000 }), temperature: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), stop: fc.option(fc.array(word, { minLength: 1, maxLength: 4 }), { nil: undefined }) }).map(
    (r): Omit<ChatRequest, 'source'> => ({
      model: 'm',
      system: r.system ? [{ type: 'text', text: r.system }] : [],
      messages: r.messages,
      stream: false,
      maxOutputTokens: r.max,
      ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
      ...(r.stop ? { stop: r.stop } : {}),
      tools: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } }],
    }),
  );

/** Drops where-from markers and joins consecutive turns of one role (every protocol may split or merge them). */
function normal(req: ChatRequest): unknown {
  const strip = (p: Part): Part => {
    const { at: _at, ...rest } = p as Part & { at?: string };
    if (rest.type === 'tool_result') return { ...rest, content: rest.content.map((c) => ({ type: 'text', text: (c as { text: string }).text })) } as Part;
    return rest as Part;
  };
  const messages: Array<{ role: string; parts: Part[] }> = [];
  for (const m of req.messages) {
    const last = messages[messages.length - 1];
    if (last && last.role === m.role) last.parts.push(...m.parts.map(strip));
    else messages.push({ role: m.role, parts: m.parts.map(strip) });
  }
  for (const m of messages) if (m.role === 'user') m.parts.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  return { ...req, source: undefined, system: req.system.map((p) => p.text), messages, tools: req.tools?.map(({ at: _at, ...t }) => t) };
}

describe.each<[Protocol, boolean]>([['openai', false], ['anthropic', true], ['gemini', true]])('%s request round trip', (protocol, withErrors) => {
  it('decode(encode(request)) is the same conversation, ids and tool results included', () => {
    fc.assert(
      fc.property(request(withErrors), (r) => {
        const req = { ...r, source: protocol } as ChatRequest;
        const wire = CODECS[protocol].encodeRequest(req, {});
        const back = CODECS[protocol].decodeRequest(JSON.parse(JSON.stringify(wire)), 'm', false);
        expect(normal(back)).toEqual(normal(req));
      }),
      { numRuns: 200 },
    );
  });
});
