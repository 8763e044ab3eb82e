// Shared by the translate-requests tests: realistic caller payloads of each protocol (agent turns
// with images, tools and answered tool calls) and the catch of the typed TranslationError.
import { TranslationError } from '../../src/relay/translate/index.ts';

export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
export const weatherSchema = { type: 'object', properties: { location: { type: 'string', description: 'City and country' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] };

/** An OpenAI agent turn as the openai SDK sends it: system, image, an answered tool call. */
export const openaiAgentRequest = {
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
export const anthropicAgentRequest = {
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
export const geminiAgentRequest = {
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

export function translationError(fn: () => unknown): TranslationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TranslationError) return err;
    throw err;
  }
  throw new Error('expected a TranslationError');
}
