import type { TokenUsage } from '../pricing/cost.ts';
import { nonZero } from './translate/util.ts';

/** Most tokens one request may report (prompt + completion); more is taken as a broken or hostile upstream. */
export const MAX_USAGE_TOKENS = 10_000_000;

/** What a provider's usage object says: usable usage, none at all, or numbers we refuse to bill. */
export type UsageReading = { kind: 'usage'; usage: TokenUsage } | { kind: 'absent' } | { kind: 'invalid'; reason: string };

const ABSENT: UsageReading = { kind: 'absent' };

/** A token count: absent (null/undefined → 0) or a non-negative safe integer within the bound. */
function count(v: unknown, field: string): number | string {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_USAGE_TOKENS) return `${field} = ${JSON.stringify(v) ?? String(v)}`;
  return v;
}

/**
 * Reads OpenAI's usage object. Every field must be a non-negative safe integer, cached ≤ prompt,
 * audio + image ≤ their total and prompt + completion ≤ MAX_USAGE_TOKENS; otherwise the usage is 'invalid' and the caller estimates
 * instead (an upstream must not be able to make an answer free, or cost billions).
 */
export function readOpenAIUsage(usage: unknown): UsageReading {
  if (usage === undefined || usage === null) return ABSENT;
  if (typeof usage !== 'object' || Array.isArray(usage)) return { kind: 'invalid', reason: 'usage is not an object' };
  const u = usage as Record<string, any>;
  if (u.prompt_tokens == null && u.completion_tokens == null) return ABSENT;
  const prompt = count(u.prompt_tokens, 'prompt_tokens');
  const completion = count(u.completion_tokens, 'completion_tokens');
  const inDetails = u.prompt_tokens_details;
  const outDetails = u.completion_tokens_details;
  const detail = (d: unknown, field: string) => (d && typeof d === 'object' ? count((d as Record<string, unknown>)[field], field) : 0);
  // Audio and image tokens are parts of the totals (gpt-4o-audio, image inputs), priced apart when the model's price says so.
  const read = [prompt, completion, detail(inDetails, 'cached_tokens'), detail(inDetails, 'audio_tokens'), detail(inDetails, 'image_tokens'), detail(outDetails, 'audio_tokens'), detail(outDetails, 'image_tokens')];
  for (const v of read) if (typeof v === 'string') return { kind: 'invalid', reason: v };
  const [p, c, k, audioIn, imageIn, audioOut, imageOut] = read as number[];
  if (k > p) return { kind: 'invalid', reason: `cached_tokens ${k} > prompt_tokens ${p}` };
  if (audioIn! + imageIn! > p!) return { kind: 'invalid', reason: `audio and image tokens ${audioIn! + imageIn!} > prompt_tokens ${p}` };
  if (audioOut! + imageOut! > c!) return { kind: 'invalid', reason: `audio and image tokens ${audioOut! + imageOut!} > completion_tokens ${c}` };
  if (p! + c! > MAX_USAGE_TOKENS) return { kind: 'invalid', reason: `${p! + c!} tokens > ${MAX_USAGE_TOKENS}` };
  return { kind: 'usage', usage: { promptTokens: p!, completionTokens: c!, cachedTokens: k!, ...nonZero({ audioInputTokens: audioIn!, imageInputTokens: imageIn!, audioOutputTokens: audioOut!, imageOutputTokens: imageOut! }) } };
}

