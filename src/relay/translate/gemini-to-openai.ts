// Gemini generateContent callers served by an OpenAI channel.
import type { GeminiGenerateContentRequest, GeminiGenerateContentResponse } from '../protocols/gemini.ts';
import type { OpenAIChatRequest, OpenAIChatResponse } from '../protocols/openai.ts';
import { makeTranslator } from './pair.ts';

export const geminiToOpenAI = makeTranslator<GeminiGenerateContentRequest, OpenAIChatRequest, OpenAIChatResponse, GeminiGenerateContentResponse>('gemini', 'openai');
