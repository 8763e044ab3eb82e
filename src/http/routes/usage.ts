// GET /api/usage/summary: the dashboard's figures (spend, requests and tokens per day, model and key;
// the latest failed requests) over the caller's own usage logs.
import { createRoute, z } from '@hono/zod-openapi';
import { money } from '../../lib/money.ts';
import { MAX_SUMMARY_DAYS, usageSummary, type UsageTotals } from '../../logs/usage-summary.ts';
import { requireUser, routes } from '../common.ts';
import { IsoTime, json, Money, SESSION, sessionErrors } from '../schemas.ts';

const Totals = {
  cost: Money,
  requests: z.number().int(),
  errors: z.number().int().openapi({ description: 'Requests that ended with status ≥ 400' }),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
};
const UsageSummarySchema = z
  .object({
    days: z.number().int(),
    from: IsoTime.openapi({ description: '00:00 UTC of the first day counted' }),
    to: IsoTime,
    totals: z.object(Totals),
    byDay: z.array(z.object({ day: z.string().openapi({ description: 'UTC date YYYY-MM-DD' }), ...Totals })).openapi({ description: 'Every day of the range, oldest first (days without usage are zeros)' }),
    byModel: z.array(z.object({ model: z.string(), ...Totals })).openapi({ description: 'Highest cost first' }),
    byKey: z
      .array(z.object({ keyId: z.number().int().nullable().openapi({ description: 'null: a deleted key' }), keyName: z.string(), ...Totals }))
      .openapi({ description: 'Highest cost first' }),
    recentErrors: z
      .array(z.object({ id: z.number().int(), createdAt: IsoTime, model: z.string(), keyName: z.string(), status: z.number().int(), error: z.string().nullable() }))
      .openapi({ description: 'The latest 10 failed requests of the range, newest first' }),
  })
  .openapi('UsageSummary');

const SummaryQuery = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_SUMMARY_DAYS)
    .default(30)
    .openapi({ description: `UTC days ending today (1–${MAX_SUMMARY_DAYS})`, example: 30 }),
});

const summary = createRoute({
  method: 'get',
  path: '/usage/summary',
  tags: ['wallet'],
  security: SESSION,
  middleware: [requireUser],
  summary: "The caller's usage over the last N UTC days: totals, per day, per model, per key, latest errors",
  request: { query: SummaryQuery },
  responses: { 200: json(UsageSummarySchema), ...sessionErrors },
});

const view = (t: UsageTotals) => ({ ...t, cost: money(t.cost) });
const iso = (ms: number) => new Date(ms).toISOString();

export const usageRoutes = routes().openapi(summary, async (c) => {
  const { days } = c.req.valid('query');
  const s = await usageSummary(c.get('gw').db, c.get('user').id, days);
  return c.json(
    {
      days,
      from: iso(s.from),
      to: iso(s.to),
      totals: view(s.totals),
      byDay: s.byDay.map((d) => ({ ...view(d), day: d.day })),
      byModel: s.byModel.map((m) => ({ ...view(m), model: m.model })),
      byKey: s.byKey.map((k) => ({ ...view(k), keyId: k.keyId, keyName: k.keyName })),
      recentErrors: s.recentErrors.map((e) => ({ ...e, createdAt: iso(e.createdAt) })),
    },
    200,
  );
});
