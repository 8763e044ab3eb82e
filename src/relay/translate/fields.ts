// The caller's name for each request-level setting, so an error about a setting the provider cannot
// take names the field the caller actually sent.
import type { Caller, ChatRequest } from './ir.ts';

type Setting = Exclude<keyof ChatRequest, 'source' | 'model' | 'system' | 'messages' | 'stream'>;

const NAMES: Record<Caller, Record<Setting, string>> = {
  openai: {
    maxOutputTokens: 'max_completion_tokens',
    temperature: 'temperature',
    topP: 'top_p',
    topK: 'top_k',
    stop: 'stop',
    presencePenalty: 'presence_penalty',
    frequencyPenalty: 'frequency_penalty',
    seed: 'seed',
    tools: 'tools',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'response_format',
    thinking: 'reasoning_effort',
    user: 'user',
  },
  anthropic: {
    maxOutputTokens: 'max_tokens',
    temperature: 'temperature',
    topP: 'top_p',
    topK: 'top_k',
    stop: 'stop_sequences',
    presencePenalty: 'presence_penalty',
    frequencyPenalty: 'frequency_penalty',
    seed: 'seed',
    tools: 'tools',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'tool_choice.disable_parallel_tool_use',
    responseFormat: 'output_format',
    thinking: 'thinking',
    user: 'metadata.user_id',
  },
  responses: {
    maxOutputTokens: 'max_output_tokens',
    temperature: 'temperature',
    topP: 'top_p',
    topK: 'top_k',
    stop: 'stop',
    presencePenalty: 'presence_penalty',
    frequencyPenalty: 'frequency_penalty',
    seed: 'seed',
    tools: 'tools',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'text.format',
    thinking: 'reasoning.effort',
    user: 'user',
  },
  gemini: {
    maxOutputTokens: 'generationConfig.maxOutputTokens',
    temperature: 'generationConfig.temperature',
    topP: 'generationConfig.topP',
    topK: 'generationConfig.topK',
    stop: 'generationConfig.stopSequences',
    presencePenalty: 'generationConfig.presencePenalty',
    frequencyPenalty: 'generationConfig.frequencyPenalty',
    seed: 'generationConfig.seed',
    tools: 'tools',
    toolChoice: 'toolConfig.functionCallingConfig',
    parallelToolCalls: 'toolConfig',
    responseFormat: 'generationConfig.responseMimeType',
    thinking: 'generationConfig.thinkingConfig',
    user: 'user',
  },
};

export const fieldOf = (req: ChatRequest, setting: Setting): string => NAMES[req.source][setting];
