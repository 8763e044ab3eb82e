// The usage object of every OpenAI surface besides chat, in the common Usage shape the metering bills.
// OpenAI names the counts two ways: prompt_tokens / completion_tokens (completions, embeddings) and
// input_tokens / output_tokens (responses, images, audio); rerank vendors send total_tokens alone.
// Reasoning, audio and image tokens are parts of those totals at OpenAI (…_details): reasoning is
// billed at the output price, audio and image tokens at the model's audio / image prices where it
// sets them (else input / output); a breakdown larger than its total is refused.
import type { Usage } from './translate/ir.ts';
import { isObject, nonZero, readCounts } from './translate/util.ts';

/** A usage reading: the provider's counts, none at all, or counts we refuse to bill (then estimated). */
export type SurfaceUsage = { kind: 'usage'; usage: Usage } | { kind: 'absent' } | { kind: 'invalid'; reason: string };

const ABSENT: SurfaceUsage = { kind: 'absent' };

const detail = (d: unknown, field: string): unknown => (isObject(d) ? d[field] : undefined);

export function readSurfaceUsage(u: unknown): SurfaceUsage {
  if (u === undefined || u === null) return ABSENT;
  if (!isObject(u)) return { kind: 'invalid', reason: 'usage is not an object' };
  // Whisper's duration usage ({type: "duration", seconds}) carries no tokens.
  if (u.type === 'duration') return ABSENT;
  const named = u.input_tokens != null || u.output_tokens != null;
  const legacy = u.prompt_tokens != null || u.completion_tokens != null;
  if (!named && !legacy && u.total_tokens == null) return ABSENT;
  const inDetails = named ? u.input_tokens_details ?? u.input_token_details : u.prompt_tokens_details;
  const outDetails = named ? u.output_tokens_details : u.completion_tokens_details;
  const read = readCounts((count) => {
    const input = named ? count(u.input_tokens) : legacy ? count(u.prompt_tokens) : count(u.total_tokens);
    const output = named ? count(u.output_tokens) : count(u.completion_tokens);
    return {
      usage: { inputTokens: input, outputTokens: output, cachedInputTokens: count(detail(inDetails, 'cached_tokens')), cacheWriteTokens: 0, reasoningTokens: count(detail(outDetails, 'reasoning_tokens')) },
      inParts: [count(detail(inDetails, 'audio_tokens')), count(detail(inDetails, 'image_tokens')), count(detail(inDetails, 'text_tokens'))],
      outParts: [count(detail(outDetails, 'audio_tokens')), count(detail(outDetails, 'image_tokens'))],
    };
  });
  if (!read) return { kind: 'invalid', reason: `usage counts that are not non-negative integers: ${JSON.stringify(u).slice(0, 200)}` };
  const { usage, inParts, outParts } = read;
  const over = (parts: number[], total: number) => parts.some((p) => p > total);
  if (usage.cachedInputTokens > usage.inputTokens || over(inParts, usage.inputTokens)) return { kind: 'invalid', reason: 'an input token breakdown exceeds input tokens' };
  if (usage.reasoningTokens > usage.outputTokens || over(outParts, usage.outputTokens)) return { kind: 'invalid', reason: 'an output token breakdown exceeds output tokens' };
  const [audioIn, imageIn] = inParts;
  const [audioOut, imageOut] = outParts;
  return { kind: 'usage', usage: { ...usage, ...nonZero({ audioInputTokens: audioIn!, imageInputTokens: imageIn!, audioOutputTokens: audioOut!, imageOutputTokens: imageOut! }) } };
}
