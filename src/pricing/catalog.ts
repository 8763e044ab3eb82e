import type { Database } from '../db/index.ts';
import { ReloadOrder } from '../lib/reload-order.ts';
import { formatDecimal, formatMicros, money } from '../lib/money.ts';
import { costOf, type Price } from './cost.ts';

export interface Group {
  name: string;
  multiplier: bigint;
  description: string;
  selectable: boolean;
}

/** In-memory snapshot of prices and groups for the hot path; reloaded whenever an admin changes them. */
export class PricingCatalog {
  prices = new Map<string, Price>();
  groups = new Map<string, Group>();
  private order = new ReloadOrder();

  constructor(private db: Database) {}

  async reload(): Promise<void> {
    const ticket = this.order.begin();
    const [priceRows, groupRows] = await Promise.all([this.db.all('SELECT * FROM prices'), this.db.all('SELECT * FROM groups')]);
    const big = (v: unknown) => (v === null || v === undefined ? null : BigInt(v as number));
    const prices = new Map(
      priceRows.map((r) => [
        r.model as string,
        {
          input: BigInt(r.input_micros),
          output: BigInt(r.output_micros),
          cachedInput: big(r.cached_input_micros),
          cacheWrite: big(r.cache_write_micros),
          perRequest: big(r.per_request_micros),
          audioInput: big(r.audio_input_micros),
          audioOutput: big(r.audio_output_micros),
          imageInput: big(r.image_input_micros),
          imageOutput: big(r.image_output_micros),
          maxOutputTokens: r.max_output_tokens === null || r.max_output_tokens === undefined ? null : Number(r.max_output_tokens),
        },
      ]),
    );
    const groups = new Map(
      groupRows.map((r) => [
        r.name as string,
        { name: r.name, multiplier: BigInt(r.multiplier_micros), description: r.description, selectable: Number(r.selectable) === 1 },
      ]),
    );
    // A reload that started later may already have applied a newer read (reloads can finish out of order).
    if (!this.order.mayApply(ticket)) return;
    this.prices = prices;
    this.groups = groups;
  }

  async setPrice(model: string, p: Price): Promise<void> {
    const cols = ['input_micros', 'output_micros', 'cached_input_micros', 'cache_write_micros', 'per_request_micros', 'audio_input_micros', 'audio_output_micros', 'image_input_micros', 'image_output_micros', 'max_output_tokens'];
    const values = [p.input, p.output, p.cachedInput, p.cacheWrite, p.perRequest, p.audioInput ?? null, p.audioOutput ?? null, p.imageInput ?? null, p.imageOutput ?? null, p.maxOutputTokens];
    await this.db.run(
      `INSERT INTO prices (model, ${cols.join(', ')}, updated_at) VALUES (?, ${cols.map(() => '?').join(', ')}, ?)
       ON CONFLICT (model) DO UPDATE SET ${cols.map((c) => `${c} = excluded.${c}`).join(', ')}, updated_at = excluded.updated_at`,
      [model, ...values, Date.now()].map((v) => (typeof v === 'bigint' ? Number(v) : v)),
    );
    await this.reload();
  }

  async deletePrice(model: string): Promise<boolean> {
    const r = await this.db.run('DELETE FROM prices WHERE model = ?', [model]);
    await this.reload();
    return r.changes > 0;
  }

  async setGroup(g: Group): Promise<void> {
    await this.db.run(
      `INSERT INTO groups (name, multiplier_micros, description, selectable) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET multiplier_micros = excluded.multiplier_micros, description = excluded.description,
         selectable = excluded.selectable`,
      [g.name, Number(g.multiplier), g.description, g.selectable ? 1 : 0],
    );
    await this.reload();
  }
}

const usdOrNull = (v: bigint | null | undefined) => (v == null ? null : formatMicros(v));

export function describePrice(p: Price) {
  return {
    input: formatMicros(p.input),
    output: formatMicros(p.output),
    cachedInput: p.cachedInput === null ? null : formatMicros(p.cachedInput),
    cacheWrite: p.cacheWrite === null ? null : formatMicros(p.cacheWrite),
    perRequest: p.perRequest === null ? null : formatMicros(p.perRequest),
    audioInput: usdOrNull(p.audioInput),
    audioOutput: usdOrNull(p.audioOutput),
    imageInput: usdOrNull(p.imageInput),
    imageOutput: usdOrNull(p.imageOutput),
    billing: p.perRequest === null ? ('usage' as const) : ('per_request' as const),
    maxOutputTokens: p.maxOutputTokens,
  };
}

/** What one model costs in one group, in USD per 1M tokens (or per request) and in points. */
export function groupPrice(p: Price, g: Group) {
  // Exact: a 6-decimal price times a 6-decimal multiplier has 12 decimals, so any log row reconciles.
  const scale = (v: bigint | null) => (v === null ? null : formatDecimal(v * g.multiplier, 12));
  const perMillion = (tokens: Partial<{ promptTokens: number; completionTokens: number }>) =>
    money(costOf({ ...p, perRequest: null }, g.multiplier, { promptTokens: 0, completionTokens: 0, cachedTokens: 0, ...tokens }));
  return {
    group: g.name,
    multiplier: formatMicros(g.multiplier),
    input: scale(p.input),
    output: scale(p.output),
    cachedInput: scale(p.cachedInput ?? p.input),
    cacheWrite: scale(p.cacheWrite ?? p.input),
    audioInput: scale(p.audioInput ?? p.input),
    audioOutput: scale(p.audioOutput ?? p.output),
    imageInput: scale(p.imageInput ?? p.input),
    imageOutput: scale(p.imageOutput ?? p.output),
    perRequest: scale(p.perRequest),
    points:
      p.perRequest === null
        ? { perMillionInput: perMillion({ promptTokens: 1_000_000 }), perMillionOutput: perMillion({ completionTokens: 1_000_000 }) }
        : { perRequest: money(costOf(p, g.multiplier, { promptTokens: 0, completionTokens: 0, cachedTokens: 0 })) },
  };
}
