// What a rerank answer says it used. Jina (and other OpenAI-style vendors) send `usage`
// ({total_tokens} or prompt/input counts): tokens, billed as input tokens. Cohere sends
// `meta.billed_units`: `search_units` (one per query over up to 100 documents, long documents split
// into chunks) and sometimes input/output tokens. Search units bill a per-request price once per
// unit; a token-priced model gets no usable count from units alone (it is estimated, as before).
import { readSurfaceUsage, type SurfaceUsage } from './surface-usage.ts';
import { isObject } from './translate/util.ts';

/** Most search units one answer may report; more is taken as a broken or hostile upstream. */
export const MAX_SEARCH_UNITS = 1000;

export interface RerankUsage {
  reading: SurfaceUsage;
  /** Search units to bill a per-request price for; null: none reported (one request = one unit). */
  units: number | null;
  /** Why the reported search units were refused, or null. */
  invalidUnits: string | null;
}

export function readRerankUsage(body: unknown): RerankUsage {
  const b = isObject(body) ? body : {};
  const billed = isObject(b.meta) && isObject(b.meta.billed_units) ? b.meta.billed_units : null;
  const tokens = b.usage ?? (billed && (billed.input_tokens != null || billed.output_tokens != null) ? { input_tokens: billed.input_tokens, output_tokens: billed.output_tokens } : undefined);
  const reading = readSurfaceUsage(tokens);
  const su = billed?.search_units;
  if (su == null) return { reading, units: null, invalidUnits: null };
  if (typeof su !== 'number' || !Number.isSafeInteger(su) || su < 1 || su > MAX_SEARCH_UNITS) {
    return { reading, units: null, invalidUnits: `search_units = ${JSON.stringify(su)} (1…${MAX_SEARCH_UNITS} expected)` };
  }
  return { reading, units: su, invalidUnits: null };
}

/** Search units a rerank request is held for: Cohere's one per 100 documents (chunks of long ones may add more). */
export const heldSearchUnits = (documents: number): number => Math.max(1, Math.ceil(documents / 100));
