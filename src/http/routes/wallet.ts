import { createRoute, z } from '@hono/zod-openapi';
import { walletOf } from '../../accounts/users.ts';
import { type LedgerEntry } from '../../ledger/entries.ts';
import { listHistory, publicHistoryItem } from '../../ledger/history.ts';
import { heldInMemory } from '../../ledger/holds.ts';
import { money } from '../../lib/money.ts';
import { listUsageLogs } from '../../logs/usage-log.ts';
import { groupPrice } from '../../pricing/catalog.ts';
import { pendingOrderCount } from '../../wallet/orders.ts';
import { runwayDays, walletCredits, walletSpend } from '../../wallet/summary.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { priceView, PriceView } from '../price-view.ts';
import { Id, IsoTime, json, Money, page, Pagination, SESSION, sessionErrors, TimeParam } from '../schemas.ts';

export const LedgerEntrySchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(['trial', 'adjustment', 'usage', 'topup', 'redemption', 'referral']),
    amount: Money,
    balanceAfter: Money,
    reference: z.string(),
    createdAt: IsoTime,
    note: z.string().nullable(),
  })
  .openapi('LedgerEntry');

const ENTRY_KINDS = ['trial', 'adjustment', 'usage', 'topup', 'redemption', 'referral'] as const;

export const WalletHistoryItemSchema = z
  .object({
    id: z.number().int().nullable().openapi({ description: 'The ledger entry id; null for a day of usage' }),
    kind: z.enum(ENTRY_KINDS),
    amount: Money,
    balanceAfter: z.union([Money, z.null()]).openapi({ description: "The balance after the entry, or after the day's last charge" }),
    reference: z.string(),
    createdAt: IsoTime,
    note: z.string().nullable(),
    day: z.string().optional().openapi({ description: 'Usage days only: the UTC date (YYYY-MM-DD)' }),
    requests: z.number().int().optional().openapi({ description: 'Usage days only: charged requests that day' }),
  })
  .openapi('WalletHistoryItem');

const WalletSchema = z
  .object({
    balance: Money,
    used: Money,
    requestCount: z.number().int(),
    held: Money,
    available: Money,
    trialCredit: Money.openapi({ description: 'Σ of trial-credit entries' }),
    referralRewards: Money.openapi({ description: 'Σ of referral entries (registration rewards and rebates)' }),
    totalToppedUp: Money.openapi({ description: 'Σ of top-up credits' }),
    pendingOrders: z.number().int().openapi({ description: "The caller's top-up orders still waiting for payment" }),
    spend: z
      .object({ today: Money, last7Days: Money, last30Days: Money })
      .nullable()
      .openapi({ description: 'Usage-log costs: since 00:00 UTC, and over the last 7 / 30 × 24 hours; null when the usage logs cannot be read right now' }),
    runway: z
      .number()
      .nullable()
      .openapi({ description: 'Days the available balance lasts at the average daily spend of the last 7 days (1 decimal, rounded down); null when nothing was spent' }),
  })
  .openapi('Wallet');

const UsageLogSchema = z
  .object({
    id: z.number().int(),
    requestId: z.string(),
    createdAt: IsoTime,
    keyId: z.number().int().nullable(),
    keyName: z.string(),
    model: z.string(),
    group: z.string(),
    channelId: z.number().int().nullable(),
    channelName: z.string().nullable(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    cachedTokens: z.number().int(),
    cost: Money,
    durationMs: z.number().int(),
    firstTokenMs: z.number().int().nullable(),
    stream: z.boolean(),
    status: z.number().int(),
    estimated: z.boolean().openapi({ description: 'Usage counted by the gateway because the provider sent none' }),
    error: z.string().nullable(),
  })
  .openapi('UsageLog');

const GroupPriceSchema = z
  .object({
    group: z.string(),
    multiplier: z.string(),
    input: z.string(),
    output: z.string(),
    cachedInput: z.string(),
    cacheWrite: z.string(),
    audioInput: z.string().openapi({ description: 'Per 1M audio prompt tokens' }),
    audioOutput: z.string().openapi({ description: 'Per 1M audio answer tokens' }),
    imageInput: z.string().openapi({ description: 'Per 1M image prompt tokens' }),
    imageOutput: z.string().openapi({ description: 'Per 1M image answer tokens' }),
    perRequest: z.string().nullable(),
    points: z.union([z.object({ perMillionInput: Money, perMillionOutput: Money }), z.object({ perRequest: Money })]),
  })
  .openapi('GroupPrice', { description: 'A model price in one group: USD with the multiplier applied (exact decimals), and points' });

export const PricingSchema = z
  .object({
    items: z.array(
      PriceView.extend({
        availableIn: z.array(z.string()).openapi({ description: 'Groups (of those listed) with an enabled channel serving the model' }),
        prices: z.array(GroupPriceSchema),
      }),
    ),
    groups: z.array(z.object({ name: z.string(), description: z.string() })),
  })
  .openapi('Pricing');

export function publicEntry(e: LedgerEntry): z.infer<typeof LedgerEntrySchema> {
  return {
    id: e.id,
    kind: e.kind,
    amount: money(e.amount),
    balanceAfter: money(e.balanceAfter),
    reference: e.reference,
    createdAt: new Date(e.createdAt).toISOString(),
    note: e.note,
  };
}

const LogQuery = Pagination.extend({
  from: TimeParam.optional(),
  to: TimeParam.optional(),
  keyId: Id.optional().openapi({ description: 'Only this key' }),
  model: z.string().max(128).optional(),
});

const LedgerQuery = Pagination.extend({
  kind: z.enum(ENTRY_KINDS).optional().openapi({ description: 'Only this kind (usage: the per-day usage lines)' }),
  from: TimeParam.optional().openapi({ description: 'From this time (inclusive): ISO date/time or unix ms' }),
  to: TimeParam.optional().openapi({ description: 'Before this time (exclusive): ISO date/time or unix ms' }),
  format: z.enum(['json', 'csv']).optional().openapi({ description: 'csv: every matching line (up to 100,000) as a CSV download; page and pageSize are ignored' }),
});
const CSV_MAX_ROWS = 100_000;
const CSV_HEADER = 'id,kind,amount_quota,amount_usd,balance_after_quota,balance_after_usd,reference,created_at,note,day,requests';

/** One CSV text field: quoted, and a leading = + - @ defused so a spreadsheet does not run it as a formula. */
function csvText(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

function historyCsv(items: ReturnType<typeof publicHistoryItem>[]): string {
  const rows = items.map((h) =>
    [h.id ?? '', h.kind, h.amount.quota, h.amount.usd, h.balanceAfter?.quota ?? '', h.balanceAfter?.usd ?? '', csvText(h.reference), h.createdAt, csvText(h.note), h.day ?? '', h.requests ?? ''].join(','),
  );
  return [CSV_HEADER, ...rows].join('\r\n') + '\r\n';
}

const base = { tags: ['wallet'], security: SESSION, middleware: [requireUser] };
const wallet = createRoute({
  ...base,
  method: 'get',
  path: '/wallet',
  summary: 'Balance, historical usage, request count, held and available amounts',
  responses: { 200: json(WalletSchema), ...sessionErrors },
});
const ledger = createRoute({
  ...base,
  method: 'get',
  path: '/wallet/ledger',
  summary: 'Wallet history, newest first: every ledger entry, and usage as one line per UTC day; filter by kind and time; ?format=csv exports it',
  request: { query: LedgerQuery },
  responses: {
    200: {
      description: 'OK',
      content: {
        'application/json': { schema: page(WalletHistoryItemSchema) },
        'text/csv': { schema: z.string().openapi({ description: `Header \`${CSV_HEADER}\`, one row per line` }) },
      },
    },
    ...sessionErrors,
  },
});
const logs = createRoute({
  ...base,
  method: 'get',
  path: '/logs',
  summary: 'Usage log rows, newest first',
  request: { query: LogQuery },
  responses: { 200: json(page(UsageLogSchema)), ...sessionErrors },
});
const pricing = createRoute({
  ...base,
  method: 'get',
  path: '/pricing',
  summary: 'Every model with its price per group (the groups a key of the caller may use; all for admins)',
  responses: { 200: json(PricingSchema), ...sessionErrors },
});

export const walletRoutes = routes()
  .openapi(wallet, async (c) => {
    const { db } = c.get('gw');
    const userId = c.get('user').id;
    const w = await walletOf(db, userId);
    if (!w) throw new ApiError(404, 'not_found', 'No wallet.');
    const held = Number(w.held) + heldInMemory(db, userId);
    const available = Number(w.balance) - held;
    const [credits, pendingOrders] = await Promise.all([walletCredits(db, userId), pendingOrderCount(db, userId)]);
    // The balance matters most when things go wrong: a failure to read the usage logs (the summary's
    // only other table) leaves spend and runway null instead of failing the whole answer.
    const spend = await walletSpend(db, userId).catch((err) => {
      c.get('gw').log.error({ err, userId }, 'wallet spend could not be read');
      return null;
    });
    return c.json(
      {
        balance: money(w.balance),
        used: money(w.used),
        requestCount: Number(w.request_count),
        held: money(held),
        available: money(available),
        trialCredit: money(credits.trialCredit),
        referralRewards: money(credits.referralRewards),
        totalToppedUp: money(credits.totalToppedUp),
        pendingOrders,
        spend: spend && { today: money(spend.today), last7Days: money(spend.last7Days), last30Days: money(spend.last30Days) },
        runway: spend && runwayDays(available, spend.last7Days),
      },
      200,
    );
  })
  .openapi(ledger, async (c) => {
    const { page, pageSize, kind, from, to, format } = c.req.valid('query');
    const filter = { kind, from, to };
    if (from !== undefined && to !== undefined && from > to) throw new ApiError(400, 'invalid_request', 'from must not be after to', {}, [{ path: ['from'], message: 'must not be after to' }]);
    if (format === 'csv') {
      const { items } = await listHistory(c.get('gw').db, c.get('user').id, 1, CSV_MAX_ROWS, filter);
      return c.body(historyCsv(items.map(publicHistoryItem)), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="wallet-ledger.csv"',
        'cache-control': 'no-store',
      });
    }
    const { items, total } = await listHistory(c.get('gw').db, c.get('user').id, page, pageSize, filter);
    return c.json({ items: items.map(publicHistoryItem), total, page, pageSize }, 200);
  })
  .openapi(logs, async (c) => {
    const q = c.req.valid('query');
    const filter = { userId: c.get('user').id, from: q.from, to: q.to, keyId: q.keyId, model: q.model || undefined };
    const { items, total } = await listUsageLogs(c.get('gw').db, filter, q.page, q.pageSize);
    return c.json({ items, total, page: q.page, pageSize: q.pageSize }, 200);
  })
  .openapi(pricing, async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const isAdmin = user.role === 'admin' || user.role === 'root';
    // A user sees the groups a key of theirs may use: their own and the selectable ones.
    const groups = [...gw.pricing.groups.values()]
      .filter((g) => isAdmin || g.selectable || g.name === user.group)
      .sort((a, b) => a.name.localeCompare(b.name));
    const items = [...gw.pricing.prices.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, p]) => ({
        ...priceView(model, p),
        availableIn: groups.filter((g) => gw.channels.serving(g.name, model).some((ch) => ch.enabled)).map((g) => g.name),
        // groupPrice's scale() is typed nullable; input and output are always set (the schema test checks).
        prices: groups.map((g) => groupPrice(p, g) as z.infer<typeof GroupPriceSchema>),
      }));
    return c.json({ items, groups: groups.map((g) => ({ name: g.name, description: g.description })) }, 200);
  });
