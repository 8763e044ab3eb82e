import { ceilDiv, MICRO, POINTS_PER_USD } from '../lib/money.ts';

/** A model's price, all in millionths of a USD: per 1M tokens, or per request when perRequest is set. */
export interface Price {
  input: bigint;
  output: bigint;
  cachedInput: bigint | null;
  cacheWrite: bigint | null;
  perRequest: bigint | null;
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
    return Number(ceilDiv(price.perRequest * multiplier * POINTS_PER_USD, REQUEST_DENOMINATOR));
  }
  const prompt = BigInt(Math.max(0, usage.promptTokens));
  const cached = BigInt(Math.min(Math.max(0, usage.cachedTokens), usage.promptTokens));
  const completion = BigInt(Math.max(0, usage.completionTokens));
  const cacheWrite = BigInt(Math.max(0, usage.cacheWriteTokens ?? 0));
  const weighted =
    (prompt - cached) * price.input +
    cached * (price.cachedInput ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) +
    completion * price.output;
  return Number(ceilDiv(weighted * multiplier * POINTS_PER_USD, TOKEN_DENOMINATOR));
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
 */
export function holdFor(price: Price, multiplier: bigint, bodyBytes: number, outputCap: number, choices = 1): number {
  const promptTokens = Math.ceil(bodyBytes / HOLD_BYTES_PER_TOKEN);
  return costOf(price, multiplier, { promptTokens, completionTokens: outputCap * choices, cachedTokens: 0 });
}
