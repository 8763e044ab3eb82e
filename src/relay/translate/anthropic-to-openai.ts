// Anthropic Messages callers served by an OpenAI channel.
import type { AnthropicMessagesRequest, AnthropicMessagesResponse } from '../protocols/anthropic.ts';
import type { OpenAIChatRequest, OpenAIChatResponse } from '../protocols/openai.ts';
import { makeTranslator } from './pair.ts';

export const anthropicToOpenAI = makeTranslator<AnthropicMessagesRequest, OpenAIChatRequest, OpenAIChatResponse, AnthropicMessagesResponse>('anthropic', 'openai');
