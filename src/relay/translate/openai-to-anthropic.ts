// OpenAI chat completions callers served by an Anthropic channel.
import type { OpenAIChatRequest, OpenAIChatResponse } from '../protocols/openai.ts';
import type { AnthropicMessagesRequest, AnthropicMessagesResponse } from '../protocols/anthropic.ts';
import { makeTranslator } from './pair.ts';

export const openaiToAnthropic = makeTranslator<OpenAIChatRequest, AnthropicMessagesRequest, AnthropicMessagesResponse, OpenAIChatResponse>('openai', 'anthropic');
