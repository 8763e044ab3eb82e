// Gemini generateContent callers served by an Anthropic channel.
import type { GeminiGenerateContentRequest, GeminiGenerateContentResponse } from '../protocols/gemini.ts';
import type { AnthropicMessagesRequest, AnthropicMessagesResponse } from '../protocols/anthropic.ts';
import { makeTranslator } from './pair.ts';

export const geminiToAnthropic = makeTranslator<GeminiGenerateContentRequest, AnthropicMessagesRequest, AnthropicMessagesResponse, GeminiGenerateContentResponse>('gemini', 'anthropic');
