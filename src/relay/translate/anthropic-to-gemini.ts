// Anthropic Messages callers served by a Gemini channel.
import type { AnthropicMessagesRequest, AnthropicMessagesResponse } from '../protocols/anthropic.ts';
import type { GeminiGenerateContentRequest, GeminiGenerateContentResponse } from '../protocols/gemini.ts';
import { makeTranslator } from './pair.ts';

export const anthropicToGemini = makeTranslator<AnthropicMessagesRequest, GeminiGenerateContentRequest, GeminiGenerateContentResponse, AnthropicMessagesResponse>('anthropic', 'gemini');
