import type { TokenUsage } from '../pricing/cost.ts';

// The tokenizer's tables cost memory and load time, so they are loaded on first need only
// (a provider that omits usage), never on the normal path.
type Tokenizer = { countTokens(text: string): number };
let tokenizer: Tokenizer | undefined;
let loading: Promise<Tokenizer> | undefined;

export function loadTokenizer(): Promise<Tokenizer> {
  loading ??= import('gpt-tokenizer').then((m) => (tokenizer = m as Tokenizer));
  return loading;
}

export async function countTokens(text: string): Promise<number> {
  if (!text) return 0;
  const t = tokenizer ?? (await loadTokenizer());
  try {
    return t.countTokens(text);
  } catch {
    return Math.ceil(text.length / 4); // text the tokenizer refuses (special tokens): a rough bound
  }
}

/** Reads OpenAI's usage object; null when the provider sent none. */
export function readOpenAIUsage(usage: unknown): TokenUsage | null {
  if (!usage || typeof usage !== 'object') return null;
  const u = usage as Record<string, any>;
  if (typeof u.prompt_tokens !== 'number' && typeof u.completion_tokens !== 'number') return null;
  return {
    promptTokens: Number(u.prompt_tokens) || 0,
    completionTokens: Number(u.completion_tokens) || 0,
    cachedTokens: Number(u.prompt_tokens_details?.cached_tokens) || 0,
  };
}

/** Text of a chat request's messages, for a prompt estimate. Counts ~4 tokens of framing per message. */
export async function estimatePromptTokens(messages: unknown): Promise<number> {
  if (!Array.isArray(messages)) return 0;
  let text = '';
  for (const m of messages) {
    const content = (m as any)?.content;
    if (typeof content === 'string') text += content + '\n';
    else if (Array.isArray(content)) for (const part of content) if (typeof part?.text === 'string') text += part.text + '\n';
  }
  return (await countTokens(text)) + 4 * messages.length + 3;
}

// Most streams end with the provider's usage and never need counting, so text is only tokenized in
// slices this large (or at the end): the tokenizer stays off the normal path, and memory stays bounded.
const SLICE_CHARS = 64 * 1024;

/** Counts generated text as it streams, in slices, so nothing but a bounded tail is ever buffered. */
export class CompletionCounter {
  private pending = '';
  private counted = 0;
  private work: Promise<void> = Promise.resolve();

  add(text: string): void {
    this.pending += text;
    if (this.pending.length >= SLICE_CHARS) {
      const slice = this.pending;
      this.pending = '';
      this.work = this.work.then(async () => {
        this.counted += await countTokens(slice);
      });
    }
  }

  async total(): Promise<number> {
    await this.work;
    const rest = this.pending;
    this.pending = '';
    return this.counted + (await countTokens(rest));
  }
}

/** Delta text of one streamed chat.completion.chunk (content, reasoning and tool-call arguments). */
export function chunkText(chunk: any): string {
  let text = '';
  const choices = chunk?.choices;
  if (!Array.isArray(choices)) return text;
  for (const c of choices) {
    const d = c?.delta;
    if (!d) continue;
    if (typeof d.content === 'string') text += d.content;
    if (typeof d.reasoning_content === 'string') text += d.reasoning_content;
    if (Array.isArray(d.tool_calls)) for (const t of d.tool_calls) if (typeof t?.function?.arguments === 'string') text += t.function.arguments;
  }
  return text;
}

/** Generated text of a non-streamed chat completion. */
export function completionText(body: any): string {
  let text = '';
  for (const c of Array.isArray(body?.choices) ? body.choices : []) {
    const m = c?.message;
    if (typeof m?.content === 'string') text += m.content;
    if (Array.isArray(m?.tool_calls)) for (const t of m.tool_calls) if (typeof t?.function?.arguments === 'string') text += t.function.arguments;
  }
  return text;
}
