// OpenAI chat completions callers served by a Gemini channel.
import type { OpenAIChatRequest, OpenAIChatResponse } from '../protocols/openai.ts';
import type { GeminiGenerateContentRequest, GeminiGenerateContentResponse } from '../protocols/gemini.ts';
import { makeTranslator } from './pair.ts';

export const openaiToGemini = makeTranslator<OpenAIChatRequest, GeminiGenerateContentRequest, GeminiGenerateContentResponse, OpenAIChatResponse>('openai', 'gemini');
