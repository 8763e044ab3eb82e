// Admin: payment provider settings (secrets write-only) and every top-up order (search, re-check with
// the provider, confirm a bank transfer, refund as an adjustment).
import { createRoute, z } from '@hono/zod-openapi';
import type { Database } from '../../db/index.ts';
import { money } from '../../lib/money.ts';
import { PaymentProviderError, PROVIDER_IDS, type ProviderId } from '../../wallet/payments/index.ts';
import { findOrder, orderFromRow, OrderStateError, refundOrder } from '../../wallet/orders.ts';
import { confirmTransfer, recheckOrder, SettleRefused } from '../../wallet/notify.ts';
import { maskedConfig, ProviderConfigError, providerSettings, saveProviderSettings } from '../../wallet/provider-settings.ts';
import { publicBase } from '../../wallet/topup.ts';
import { ApiError, routes } from '../common.ts';
import { ErrorBody, json, jsonBody, Money, NullableIsoTime, page, Pagination, SESSION, sessionErrors, TimeParam } from '../schemas.ts';
import { OrderNoParam, OrderSchema, orderView, ProviderEnum, StatusEnum } from './topup.ts';

const ProviderSchema = z
  .object({
    provider: ProviderEnum,
    enabled: z.boolean(),
    sandbox: z.boolean(),
    config: z.record(z.string(), z.unknown()).openapi({ description: 'The settings; secret ones shown as "********" (null when unset)' }),
    notifyUrl: z.string().nullable().openapi({ description: 'The callback URL to configure at the provider (null: no callbacks)' }),
    problem: z.string().nullable(),
    updatedAt: NullableIsoTime,
  })
  .openapi('PaymentProvider');

const ProviderParam = z.object({ provider: ProviderEnum.openapi({ param: { name: 'provider', in: 'path' }, example: 'epay' }) });

const AdminOrder = OrderSchema.extend({
  userId: z.number().int(),
  username: z.string().nullable(),
  expiredAt: NullableIsoTime,
  confirmedBy: z.string().nullable(),
  refundedAt: NullableIsoTime,
  refundedBy: z.string().nullable(),
  refundReason: z.string().nullable(),
}).openapi('AdminTopupOrder');

const OrderQuery = Pagination.extend({
  search: z.string().max(128).optional().openapi({ description: 'Order number, provider trade number or username (part of)' }),
  status: StatusEnum.optional(),
  method: ProviderEnum.optional(),
  userId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  from: TimeParam.optional(),
  to: TimeParam.optional(),
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
function adminOrderView(r: Record<string, any>): z.infer<typeof AdminOrder> {
  const o = orderFromRow(r);
  return {
    ...orderView(o),
    userId: o.userId,
    username: r.username ?? null,
    expiredAt: iso(o.expiredAt),
    confirmedBy: o.confirmedBy,
    refundedAt: iso(o.refundedAt),
    refundedBy: o.refundedBy,
    refundReason: o.refundReason,
  };
}

const base = { tags: ['admin'], security: SESSION };
const providerError = { 502: json(ErrorBody, 'The provider could not be asked (`provider_error`)') };
const r = {
  listProviders: createRoute({ ...base, method: 'get', path: '/payment-providers', summary: 'Payment providers (secrets masked)', responses: { 200: json(z.object({ items: z.array(ProviderSchema) })), ...sessionErrors } }),
  getProvider: createRoute({ ...base, method: 'get', path: '/payment-providers/{provider}', summary: 'One payment provider (secrets masked)', request: { params: ProviderParam }, responses: { 200: json(ProviderSchema), ...sessionErrors } }),
  putProvider: createRoute({
    ...base,
    method: 'put',
    path: '/payment-providers/{provider}',
    summary: 'Enable and configure a provider; omitted settings (secrets too) keep their stored value',
    description:
      'epay {baseUrl, pid, key, signStyle?: append|ampersand-key, mode?: redirect|form|mapi}; lantu {baseUrl?, mchId, key, timeExpire?}; ' +
      'alipay {gateway?, appId, privateKey, alipayPublicKey, sellerId?, mode?: page|qr|auto}; stripe {secretKey, webhookSecret, apiBase?}; ' +
      'transfer {bankName, accountName, accountNo}; sandbox {}.',
    request: { params: ProviderParam, body: jsonBody(z.object({ enabled: z.boolean().optional() }).catchall(z.unknown())) },
    responses: { 200: json(ProviderSchema), ...sessionErrors },
  }),
  listOrders: createRoute({ ...base, method: 'get', path: '/orders', summary: 'All top-up orders, newest first (search and filters)', request: { query: OrderQuery }, responses: { 200: json(page(AdminOrder)), ...sessionErrors } }),
  recheck: createRoute({
    ...base,
    method: 'post',
    path: '/orders/{orderNo}/recheck',
    summary: "Ask the provider's order-query API; credits the order if the provider says it is paid (with the stored amount)",
    request: { params: OrderNoParam },
    responses: {
      200: json(z.object({ order: AdminOrder, provider: z.object({ status: z.enum(['paid', 'pending', 'closed', 'not_found']), tradeNo: z.string().nullable(), amount: z.object({ currency: z.string(), minor: z.number().int() }).nullable() }), credited: z.boolean() })),
      ...sessionErrors,
      ...providerError,
    },
  }),
  confirm: createRoute({
    ...base,
    method: 'post',
    path: '/orders/{orderNo}/confirm',
    summary: 'Confirm a bank transfer was received: the order is credited (who and when recorded)',
    request: { params: OrderNoParam, body: { required: false, content: { 'application/json': { schema: z.object({ note: z.string().max(500).optional() }).strict() } } } },
    responses: { 200: json(AdminOrder), ...sessionErrors },
  }),
  refund: createRoute({
    ...base,
    method: 'post',
    path: '/orders/{orderNo}/refund',
    summary: 'Refund as an adjustment: order paid → refunded, its credits (amount and bonus) debited; the balance may go negative',
    request: { params: OrderNoParam, body: jsonBody(z.object({ reason: z.string().trim().min(1, 'give a reason').max(500) }).strict()) },
    responses: { 200: json(z.object({ order: AdminOrder, debited: Money })), ...sessionErrors },
  }),
};

async function adminOrder(db: Database, orderNo: string) {
  const row = await db.get('SELECT o.*, u.username FROM payment_orders o LEFT JOIN users u ON u.id = o.user_id WHERE o.order_no = ?', [orderNo]);
  if (!row) throw new ApiError(404, 'not_found', 'No such order.');
  return adminOrderView(row);
}

export const adminPaymentRoutes = routes()
  .openapi(r.listProviders, async (c) => {
    const gw = c.get('gw');
    const origin = new URL(c.req.url).origin;
    const items = await Promise.all(PROVIDER_IDS.map(async (id) => providerView(await providerSettings(gw.db, gw.secrets, id), publicBase(gw, origin))));
    return c.json({ items }, 200);
  })
  .openapi(r.getProvider, async (c) => {
    const gw = c.get('gw');
    const { provider } = c.req.valid('param');
    return c.json(providerView(await providerSettings(gw.db, gw.secrets, provider), publicBase(gw, new URL(c.req.url).origin)), 200);
  })
  .openapi(r.putProvider, async (c) => {
    const gw = c.get('gw');
    const { provider } = c.req.valid('param');
    const { enabled, ...config } = c.req.valid('json');
    try {
      const saved = await saveProviderSettings(gw.db, gw.secrets, provider, { enabled, config });
      gw.log.info({ provider, enabled: saved.enabled, by: c.get('user').username }, 'payment provider settings changed');
      return c.json(providerView(saved, publicBase(gw, new URL(c.req.url).origin)), 200);
    } catch (err) {
      if (err instanceof ProviderConfigError) throw new ApiError(400, 'invalid_request', err.message, {}, err.issues);
      throw err;
    }
  })
  .openapi(r.listOrders, async (c) => {
    const gw = c.get('gw');
    const q = c.req.valid('query');
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.search) {
      const like = `%${q.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      where.push(`(o.order_no LIKE ? ESCAPE '\\' OR o.trade_no LIKE ? ESCAPE '\\' OR LOWER(u.username) LIKE LOWER(?) ESCAPE '\\')`);
      params.push(like, like, like);
    }
    if (q.status) where.push('o.status = ?') && params.push(q.status);
    if (q.method) where.push('o.provider = ?') && params.push(q.method);
    if (q.userId) where.push('o.user_id = ?') && params.push(q.userId);
    if (q.from !== undefined) where.push('o.created_at >= ?') && params.push(q.from);
    if (q.to !== undefined) where.push('o.created_at < ?') && params.push(q.to);
    const sql = `FROM payment_orders o LEFT JOIN users u ON u.id = o.user_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [rows, total] = await Promise.all([
      gw.db.all(`SELECT o.*, u.username ${sql} ORDER BY o.id DESC LIMIT ? OFFSET ?`, [...params, q.pageSize, (q.page - 1) * q.pageSize]),
      gw.db.get<{ n: number }>(`SELECT COUNT(*) AS n ${sql}`, params),
    ]);
    return c.json({ items: rows.map(adminOrderView), total: Number(total?.n ?? 0), page: q.page, pageSize: q.pageSize }, 200);
  })
  .openapi(r.recheck, async (c) => {
    const gw = c.get('gw');
    const { orderNo } = c.req.valid('param');
    const order = await findOrder(gw.db, orderNo);
    if (!order) throw new ApiError(404, 'not_found', 'No such order.');
    try {
      const result = await recheckOrder(gw, order);
      return c.json({ order: await adminOrder(gw.db, orderNo), provider: result.provider, credited: result.credited }, 200);
    } catch (err) {
      if (err instanceof SettleRefused) throw new ApiError(409, err.code, err.message);
      if (err instanceof PaymentProviderError) {
        if (err.code === 'unsupported') throw new ApiError(409, 'not_queryable', err.message);
        return c.json({ error: { message: err.message, code: 'provider_error' } }, 502);
      }
      throw err;
    }
  })
  .openapi(r.confirm, async (c) => {
    const gw = c.get('gw');
    const { orderNo } = c.req.valid('param');
    const order = await findOrder(gw.db, orderNo);
    if (!order) throw new ApiError(404, 'not_found', 'No such order.');
    const body = (c.req.valid('json') as { note?: string } | undefined) ?? {};
    try {
      await confirmTransfer(gw, order, c.get('user').username, body.note);
    } catch (err) {
      if (err instanceof SettleRefused) throw new ApiError(409, err.code, err.message);
      throw err;
    }
    return c.json(await adminOrder(gw.db, orderNo), 200);
  })
  .openapi(r.refund, async (c) => {
    const gw = c.get('gw');
    const { orderNo } = c.req.valid('param');
    if (!(await findOrder(gw.db, orderNo))) throw new ApiError(404, 'not_found', 'No such order.');
    try {
      const o = await refundOrder(gw.db, orderNo, c.req.valid('json').reason, c.get('user').username);
      gw.outbox.kick();
      return c.json({ order: await adminOrder(gw.db, orderNo), debited: money(o.points + o.bonusPoints) }, 200);
    } catch (err) {
      if (err instanceof OrderStateError) throw new ApiError(409, 'order_not_paid', 'Only a paid order can be refunded.');
      throw err;
    }
  });

function providerView(s: Awaited<ReturnType<typeof providerSettings>>, base: string): z.infer<typeof ProviderSchema> {
  const callbacks = s.provider !== 'transfer' && s.provider !== 'sandbox';
  return {
    provider: s.provider as ProviderId,
    enabled: s.enabled,
    sandbox: s.provider === 'sandbox',
    config: maskedConfig(s),
    notifyUrl: callbacks ? `${base}/api/payment/notify/${s.provider}` : null,
    problem: s.problem,
    updatedAt: iso(s.updatedAt),
  };
}
