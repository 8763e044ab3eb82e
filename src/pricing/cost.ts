import { ceilDiv, MICRO, POINTS_PER_USD } from '../lib/money.ts';

/** A model's price, all in millionths of a USD: per 1M tokens, or per request when perRequest is set. */
export interface Price {
  input: bigint;
  output: bigint;
  cachedInput: bigint | null;
  cacheWrite: bigint | null;
  perRequest: bigint | null;
  /** Audio / image tokens of the prompt and of the answer, per 1M; null or absent: the input / output price. */
  audioInput?: bigint | null;
  audioOutput?: bigint | null;
  imageInput?: bigint | null;
  imageOutput?: bigint | null;
  /** The model's output cap per choice, in tokens (null: unknown; the hold uses the request's or the default cap). */
  maxOutputTokens: number | null;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Part of promptTokens read from the provider's cache. */
  cachedTokens: number;
  /** Prompt tokens written to the provider's cache (Anthropic), billed on top of promptTokens. */
  cacheWriteTokens?: number;
  /** Parts of promptTokens / completionTokens the provider reports as audio or image tokens. */
  audioInputTokens?: number;
  imageInputTokens?: number;
  audioOutputTokens?: number;
  imageOutputTokens?: number;
  /** Per-request units the provider billed (Cohere rerank search units); absent: 1. */
  units?: number;
}

// tokens × micro-USD-per-1M × multiplier-micros × points-per-USD / (1M tokens × 1e6 × 1e6)
const TOKEN_DENOMINATOR = MICRO * MICRO * MICRO;
const REQUEST_DENOMINATOR = MICRO * MICRO;

/**
 * Exact cost in points, rounded up once per request (so a request that used priced tokens never costs 0).
 * The group multiplier is in millionths (1.5 → 1_500_000).
 */
export function costOf(price: Price, multiplier: bigint, usage: TokenUsage): number {
  if (price.perRequest !== null) {
    const units = BigInt(usage.units !== undefined && Number.isSafeInteger(usage.units) && usage.units > 0 ? usage.units : 1);
    return Number(ceilDiv(units * price.perRequest * multiplier * POINTS_PER_USD, REQUEST_DENOMINATOR));
  }
  const n = (v: number | undefined) => Math.max(0, v ?? 0);
  const promptTokens = n(usage.promptTokens);
  const cached = Math.min(n(usage.cachedTokens), promptTokens);
  // Cached tokens first (at cachedInput), then audio and image tokens out of what is left, so the
  // parts never bill more tokens than the prompt has; the rest is ordinary input.
  const [audioIn, imageIn] = take(promptTokens - cached, n(usage.audioInputTokens), n(usage.imageInputTokens));
  const completion = n(usage.completionTokens);
  const [audioOut, imageOut] = take(completion, n(usage.audioOutputTokens), n(usage.imageOutputTokens));
  const B = BigInt;
  const weighted =
    B(promptTokens - cached - audioIn - imageIn) * price.input +
    B(cached) * (price.cachedInput ?? price.input) +
    B(n(usage.cacheWriteTokens)) * (price.cacheWrite ?? price.input) +
    B(audioIn) * (price.audioInput ?? price.input) +
    B(imageIn) * (price.imageInput ?? price.input) +
    B(completion - audioOut - imageOut) * price.output +
    B(audioOut) * (price.audioOutput ?? price.output) +
    B(imageOut) * (price.imageOutput ?? price.output);
  return Number(ceilDiv(weighted * multiplier * POINTS_PER_USD, TOKEN_DENOMINATOR));
}

/** Two parts of a total, each cut so that together they never exceed it (the first kept first). */
function take(total: number, a: number, b: number): [number, number] {
  const first = Math.min(a, total);
  return [first, Math.min(b, total - first)];
}

/** Bytes of request body per estimated prompt token: a deliberate over-estimate for holds. */
export const HOLD_BYTES_PER_TOKEN = 3;

/**
 * Output tokens one choice may produce, for the hold: the request's max tokens capped by the model's
 * maxOutputTokens; the model's cap when the request sets none; the operator default when neither exists.
 */
export function outputCapPerChoice(requested: number | null, modelMax: number | null, defaultMax: number): number {
  if (modelMax !== null) return Math.min(requested ?? modelMax, modelMax);
  return requested ?? defaultMax;
}

/**
 * The hold: the most this request should cost. Prompt ≈ ceil(body bytes / 3) (JSON overhead makes this
 * generous, and the prompt is billed once whatever `n` is); output = the cap per choice × choices.
 * A per-request price is held once per unit (rerank: the search units the documents need).
 */
export function holdFor(price: Price, multiplier: bigint, bodyBytes: number, outputCap: number, choices = 1, units = 1): number {
  const promptTokens = Math.ceil(bodyBytes / HOLD_BYTES_PER_TOKEN);
  // Any token may turn out to be audio or image: the hold takes the dearest price of each side.
  const partPriced = price.audioInput != null || price.imageInput != null || price.audioOutput != null || price.imageOutput != null;
  const dearest = partPriced
    ? { ...price, input: dearer(price.input, price.audioInput, price.imageInput), output: dearer(price.output, price.audioOutput, price.imageOutput) }
    : price; // the common case: no copy on the request path
  return costOf(dearest, multiplier, { promptTokens, completionTokens: outputCap * choices, cachedTokens: 0, units });
}

/** The highest of a price and its set alternatives. */
function dearer(base: bigint, a: bigint | null | undefined, b: bigint | null | undefined): bigint {
  let m = base;
  if (a != null && a > m) m = a;
  if (b != null && b > m) m = b;
  return m;
}
