// Protocol translation between OpenAI chat completions, Anthropic Messages and Gemini
// generateContent. See docs/translation.md for what maps and what does not.
import { anthropicToGemini } from './anthropic-to-gemini.ts';
import { anthropicToOpenAI } from './anthropic-to-openai.ts';
import { TranslationError } from './errors.ts';
import { geminiToAnthropic } from './gemini-to-anthropic.ts';
import { geminiToOpenAI } from './gemini-to-openai.ts';
import type { Protocol } from './ir.ts';
import { openaiToAnthropic } from './openai-to-anthropic.ts';
import { openaiToGemini } from './openai-to-gemini.ts';
import type { Translator } from './pair.ts';

export { anthropicToGemini, anthropicToOpenAI, geminiToAnthropic, geminiToOpenAI, openaiToAnthropic, openaiToGemini, TranslationError };
export type { ChatRequest, ChatResponse, Protocol, StopReason, TranslateOptions, Usage } from './ir.ts';
export type { Translator, UpstreamRequest } from './pair.ts';
export { StreamTranslator } from './stream.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTranslator = Translator<any, any, any, any>;

const TRANSLATORS: Record<string, AnyTranslator> = {
  'openai>anthropic': openaiToAnthropic,
  'openai>gemini': openaiToGemini,
  'anthropic>openai': anthropicToOpenAI,
  'anthropic>gemini': anthropicToGemini,
  'gemini>openai': geminiToOpenAI,
  'gemini>anthropic': geminiToAnthropic,
};

/** The translator for a caller of `inbound` served by a `provider` channel; undefined when they match. */
export const translatorFor = (inbound: Protocol, provider: Protocol): AnyTranslator | undefined => TRANSLATORS[`${inbound}>${provider}`];

/** A TranslationError as the 400 answer in the caller's protocol. */
export function translationErrorBody(caller: Protocol, err: TranslationError): { status: 400; body: unknown } {
  const message = `Cannot translate this request for the selected provider: ${err.message}`;
  if (caller === 'anthropic') return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message } } };
  if (caller === 'gemini') return { status: 400, body: { error: { code: 400, message, status: 'INVALID_ARGUMENT' } } };
  return { status: 400, body: { error: { message, type: 'invalid_request_error', param: err.field, code: 'untranslatable_field' } } };
}
