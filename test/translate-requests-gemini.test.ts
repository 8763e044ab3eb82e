// Request translation to and from the Gemini protocol, with realistic caller payloads: a Gemini
// caller to OpenAI and Anthropic channels, and OpenAI and Anthropic callers to Gemini channels
// (systemInstruction, inline images, functionCall rounds, thinking, and the typed errors for what
// cannot be translated). Payloads: helpers/translate-fixtures.ts.
import { describe, expect, it } from 'vitest';
import { anthropicToGemini, geminiToAnthropic, geminiToOpenAI, openaiToGemini } from '../src/relay/translate/index.ts';
import { anthropicAgentRequest, geminiAgentRequest, openaiAgentRequest, PNG, translationError, weatherSchema } from './helpers/translate-fixtures.ts';

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
