// Token counting for answers that came without usable usage. The tokenizer's tables cost memory and
// load time, so they are loaded on first need only, never on the normal path. Counting runs in short
// slices that yield to the event loop, within a time budget per text: a pathological text (a megabyte
// of one repeated character costs the BPE seconds) gets a byte-based estimate for what the budget
// did not cover, so it can never stall other requests.
type Tokenizer = { countTokens(text: string): number };
let tokenizer: Tokenizer | undefined;
let loading: Promise<Tokenizer> | undefined;

export function loadTokenizer(): Promise<Tokenizer> {
  loading ??= import('gpt-tokenizer').then((m) => (tokenizer = m as Tokenizer));
  return loading;
}

/** Characters tokenized in one go (split at a space near the end when there is one). */
const SEGMENT_CHARS = 2048;
/** Longest tokenizer run before yielding to the event loop. */
const SLICE_MS = 4;
/** Tokenizer time per text; the rest is estimated from its size. */
export const COUNT_BUDGET_MS = 40;
/** Estimate for text the budget did not cover: at least one token per 4 UTF-8 bytes. */
const BYTES_PER_TOKEN = 4;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function countSegment(t: Tokenizer, text: string): number {
  try {
    return t.countTokens(text);
  } catch {
    return Math.ceil(Buffer.byteLength(text) / BYTES_PER_TOKEN); // text the tokenizer refuses (special tokens)
  }
}

function segmentEnd(text: string, from: number): number {
  const end = Math.min(text.length, from + SEGMENT_CHARS);
  if (end === text.length) return end;
  const space = text.lastIndexOf(' ', end);
  let cut = space > from + SEGMENT_CHARS / 2 ? space : end;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
  return cut;
}

/** Tokens of `text`, counted within COUNT_BUDGET_MS of tokenizer time, estimated beyond it. */
export async function countTokens(text: string, budgetMs = COUNT_BUDGET_MS): Promise<number> {
  if (!text) return 0;
  const t = tokenizer ?? (await loadTokenizer());
  let tokens = 0;
  let pos = 0;
  let spent = 0;
  let sliceStart = performance.now();
  while (pos < text.length) {
    const end = segmentEnd(text, pos);
    tokens += countSegment(t, text.slice(pos, end));
    pos = end;
    const now = performance.now();
    if (now - sliceStart >= SLICE_MS && pos < text.length) {
      spent += now - sliceStart;
      if (spent >= budgetMs) break;
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  if (pos >= text.length) return tokens;
  // Over budget: the rest at the ratio seen so far, and never under one token per 4 bytes.
  const countedBytes = Buffer.byteLength(text.slice(0, pos));
  const restBytes = Buffer.byteLength(text) - countedBytes;
  return tokens + Math.ceil(restBytes * Math.max(tokens / Math.max(countedBytes, 1), 1 / BYTES_PER_TOKEN));
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

/** Delta text of one streamed chat.completion.chunk (content, reasoning and tool-call arguments) or text_completion chunk. */
export function chunkText(chunk: any): string {
  let text = '';
  const choices = chunk?.choices;
  if (!Array.isArray(choices)) return text;
  for (const c of choices) {
    if (typeof c?.text === 'string') text += c.text; // legacy completions chunks
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
