// A model's price as the API shows and accepts it (admin price list, PUT, and /api/pricing).
import { z } from '@hono/zod-openapi';
import { parseMicros } from '../lib/money.ts';
import type { Price } from '../pricing/cost.ts';
import { describePrice } from '../pricing/catalog.ts';

const usdText = z.string().openapi({ description: 'USD, exact decimal', example: '2.5' });

export const PriceView = z
  .object({
    model: z.string(),
    input: usdText.openapi({ description: 'USD per 1M input tokens' }),
    output: usdText.openapi({ description: 'USD per 1M output tokens' }),
    cachedInput: usdText.nullable().openapi({ description: 'USD per 1M cached input tokens; null = the input price' }),
    cacheWrite: usdText.nullable().openapi({ description: 'USD per 1M cache-write tokens; null = the input price' }),
    perRequest: usdText.nullable().openapi({ description: 'USD per request (rerank: per search unit when the provider reports them); when set, tokens are not billed' }),
    audioInput: usdText.nullable().openapi({ description: 'USD per 1M audio prompt tokens (as the provider reports them); null = the input price' }),
    audioOutput: usdText.nullable().openapi({ description: 'USD per 1M audio answer tokens; null = the output price' }),
    imageInput: usdText.nullable().openapi({ description: 'USD per 1M image prompt tokens; null = the input price' }),
    imageOutput: usdText.nullable().openapi({ description: 'USD per 1M image answer tokens; null = the output price' }),
    billing: z.enum(['usage', 'per_request']),
    maxOutputTokens: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The model's output cap per choice, used for holds; null = the defaultMaxOutputTokens setting" }),
  })
  .openapi('Price');

export function priceView(model: string, p: Price): z.infer<typeof PriceView> {
  return { model, ...describePrice(p) };
}

const usd = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const m = parseMicros(v);
    if (m === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a non-negative USD amount with at most 6 decimals, e.g. "2.5"' });
      return z.NEVER;
    }
    return m;
  })
  .openapi({ description: 'USD as a decimal string (or number), at most 6 decimals', example: '0.15' });
export const usdInput = usd;

export const PriceInput = z
  .object({
    input: usd.optional(),
    output: usd.optional(),
    cachedInput: usd.nullable().optional(),
    cacheWrite: usd.nullable().optional(),
    perRequest: usd.nullable().optional(),
    audioInput: usd.nullable().optional(),
    audioOutput: usd.nullable().optional(),
    imageInput: usd.nullable().optional(),
    imageOutput: usd.nullable().optional(),
    maxOutputTokens: z
      .number()
      .int()
      .positive()
      .max(10_000_000)
      .nullable()
      .optional()
      .openapi({ description: 'Output cap per choice for holds; null or absent = none' }),
  })
  .openapi('PriceInput', { description: 'Give input and output (USD per 1M tokens), or perRequest (USD per call)' });
