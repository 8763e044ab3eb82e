// The user's top-ups: options (tiers, bonuses, limits, methods, CNY price), creating an order, and the
// user's own orders.
import { createRoute, z } from '@hono/zod-openapi';
import { clientIp } from '../../lib/ip.ts';
import { money } from '../../lib/money.ts';
import { PROVIDER_IDS, type ProviderId } from '../../wallet/payments/index.ts';
import { minorToDecimal, usdToPoints } from '../../wallet/payments/money.ts';
import { findOrder, orderFromRow, type PaymentOrderRecord } from '../../wallet/orders.ts';
import { enabledProviderIds } from '../../wallet/provider-settings.ts';
import { createTopup, currencyOf, PROVIDER_CHANNELS, ProviderFailed, TopupRefused } from '../../wallet/topup.ts';
import { bonusFor } from '../../wallet/topup-settings.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { ErrorBody, IsoTime, json, jsonBody, Money, NullableIsoTime, page, Pagination, SESSION, sessionErrors } from '../schemas.ts';

const ProviderEnum = z.enum(PROVIDER_IDS as [ProviderId, ...ProviderId[]]);
const StatusEnum = z.enum(['pending', 'paid', 'expired', 'failed', 'refunded']);

export const PaySchema = z
  .object({
    url: z.string().optional().openapi({ description: "Open the provider's page" }),
    qrCode: z.string().optional().openapi({ description: 'Show as a QR code' }),
    form: z.object({ action: z.string(), method: z.enum(['POST', 'GET']), fields: z.record(z.string(), z.string()) }).optional(),
    transfer: z
      .object({ bankName: z.string(), accountName: z.string(), accountNo: z.string(), reference: z.string(), amount: z.string(), currency: z.string() })
      .optional()
      .openapi({ description: 'Bank transfer: the account and the reference to write on the transfer' }),
  })
  .openapi('PayInstruction');

export const OrderSchema = z
  .object({
    orderNo: z.string(),
    status: StatusEnum,
    method: ProviderEnum,
    channel: z.enum(['alipay', 'wxpay']).nullable(),
    usd: z.string().openapi({ description: 'USD ordered, 2 decimals', example: '10.00' }),
    amount: Money.openapi({ description: 'Points credited for the amount' }),
    bonus: Money.openapi({ description: 'Tier bonus points credited besides the amount' }),
    payAmount: z.string().openapi({ description: 'What the user pays, in payCurrency (2 decimals)', example: '72.00' }),
    payCurrency: z.string().openapi({ example: 'CNY' }),
    rate: z.string().openapi({ description: 'CNY per USD used ("1" for USD payments)' }),
    pay: PaySchema.nullable(),
    tradeNo: z.string().nullable(),
    paidAfterExpiry: z.boolean().openapi({ description: 'A valid payment arrived after the order had expired (credited anyway)' }),
    sandbox: z.boolean(),
    createdAt: IsoTime,
    expiresAt: IsoTime,
    paidAt: NullableIsoTime,
  })
  .openapi('TopupOrder');

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function orderView(o: PaymentOrderRecord): z.infer<typeof OrderSchema> {
  return {
    orderNo: o.orderNo,
    status: o.status,
    method: o.provider,
    channel: o.channel,
    usd: minorToDecimal(o.usdCents, 2),
    amount: money(o.points),
    bonus: money(o.bonusPoints),
    payAmount: minorToDecimal(o.payMinor, 2),
    payCurrency: o.currency,
    rate: o.rate,
    pay: o.pay,
    tradeNo: o.tradeNo,
    paidAfterExpiry: o.paidAfterExpiry,
    sandbox: o.provider === 'sandbox',
    createdAt: new Date(o.createdAt).toISOString(),
    expiresAt: new Date(o.expiresAt).toISOString(),
    paidAt: iso(o.paidAt),
  };
}

const OptionsSchema = z
  .object({
    tiers: z.array(z.object({ usd: z.string(), amount: Money, bonus: Money })),
    minTopupUsd: z.string(),
    maxTopupUsd: z.string(),
    cnyPerUsd: z.string().openapi({ description: 'Price of 1 USD in CNY (for CNY methods)' }),
    orderExpiryMinutes: z.number().int(),
    invoiceDelayDays: z.number().int().openapi({ description: 'A paid top-up may be invoiced this many days after it was paid' }),
    methods: z.array(
      z.object({
        method: ProviderEnum,
        currency: z.string(),
        channels: z.array(z.enum(['alipay', 'wxpay'])),
        sandbox: z.boolean().openapi({ description: 'Label it SANDBOX: completes at once, no real money' }),
      }),
    ),
  })
  .openapi('TopupOptions');

export const topupBody = z
  .object({
    amount: z.string().regex(/^\d{1,9}(?:\.\d{1,2})?$/, 'a USD decimal string with at most 2 decimals, e.g. "10.50"').openapi({ example: '10' }),
    method: ProviderEnum,
    channel: z.enum(['alipay', 'wxpay']).optional(),
  })
  .strict();

const OrderNoParam = z.object({ orderNo: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).openapi({ param: { name: 'orderNo', in: 'path' }, example: 'T176400000000012345678' }) });

const base = { tags: ['wallet'], security: SESSION, middleware: [requireUser] };
const r = {
  options: createRoute({ ...base, method: 'get', path: '/wallet/topup/options', summary: 'Top-up tiers, bonuses, limits, enabled methods, CNY price', responses: { 200: json(OptionsSchema), ...sessionErrors } }),
  create: createRoute({
    ...base,
    method: 'post',
    path: '/wallet/topup',
    summary: 'Create a top-up order and get how to pay it',
    request: { body: jsonBody(topupBody) },
    responses: {
      201: json(OrderSchema, 'Created (the sandbox: already paid)'),
      ...sessionErrors,
      502: json(ErrorBody, 'The payment provider refused or could not be reached (`provider_error`)'),
    },
  }),
  list: createRoute({ ...base, method: 'get', path: '/wallet/orders', summary: 'My top-up orders, newest first', request: { query: Pagination }, responses: { 200: json(page(OrderSchema)), ...sessionErrors } }),
  one: createRoute({ ...base, method: 'get', path: '/wallet/orders/{orderNo}', summary: 'One of my orders', request: { params: OrderNoParam }, responses: { 200: json(OrderSchema), ...sessionErrors } }),
};

export const topupRoutes = routes()
  .openapi(r.options, async (c) => {
    const gw = c.get('gw');
    const s = gw.settings.current;
    const ids = await enabledProviderIds(gw.db);
    return c.json(
      {
        tiers: s.topupTiers.map((t) => ({ usd: t.usd, amount: money(usdToPoints(t.usd) ?? 0n), bonus: money(bonusFor(s.topupTiers, t.usd)) })),
        minTopupUsd: s.minTopupUsd,
        maxTopupUsd: s.maxTopupUsd,
        cnyPerUsd: s.cnyPerUsd,
        orderExpiryMinutes: s.orderExpiryMinutes,
        invoiceDelayDays: s.invoiceDelayDays,
        methods: ids.map((id) => ({ method: id, currency: currencyOf(id), channels: PROVIDER_CHANNELS[id]?.channels ?? [], sandbox: id === 'sandbox' })),
      },
      200,
    );
  })
  .openapi(r.create, async (c) => {
    const gw = c.get('gw');
    const body = c.req.valid('json');
    const ua = c.req.header('user-agent') ?? '';
    const device = /Mobile|Android|iPhone|iPad/i.test(ua) ? ('mobile' as const) : ('pc' as const);
    const ip = c.env?.incoming ? clientIp(c.env.incoming, gw.config.TRUST_PROXY) : undefined;
    try {
      const order = await createTopup(gw, c.get('user').id, body, new URL(c.req.url).origin, device, ip);
      return c.json(orderView(order), 201);
    } catch (err) {
      if (err instanceof TopupRefused) throw new ApiError(400, err.code, err.message, {}, [{ path: [err.field], message: err.message }]);
      if (err instanceof ProviderFailed) {
        gw.log.warn({ orderNo: err.orderNo, err: err.providerError.message }, 'payment provider refused a top-up');
        return c.json({ error: { message: `The payment provider could not start the payment (${err.providerError.message}). Try again or pick another method.`, code: 'provider_error' } }, 502);
      }
      throw err;
    }
  })
  .openapi(r.list, async (c) => {
    const gw = c.get('gw');
    const { page, pageSize } = c.req.valid('query');
    const userId = c.get('user').id;
    const [rows, total] = await Promise.all([
      gw.db.all('SELECT * FROM payment_orders WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?', [userId, pageSize, (page - 1) * pageSize]),
      gw.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM payment_orders WHERE user_id = ?', [userId]),
    ]);
    return c.json({ items: rows.map((row) => orderView(orderFromRow(row))), total: Number(total?.n ?? 0), page, pageSize }, 200);
  })
  .openapi(r.one, async (c) => {
    const gw = c.get('gw');
    const order = await findOrder(gw.db, c.req.valid('param').orderNo);
    // Someone else's order is "not found": order numbers are not secrets, but their contents are.
    if (!order || order.userId !== c.get('user').id) throw new ApiError(404, 'not_found', 'No such order.');
    return c.json(orderView(order), 200);
  });

export { OrderNoParam, ProviderEnum, StatusEnum };
