// Enterprise invoices: users request them for paid top-ups; admins issue (URL of the e-invoice) or
// reject (reason) them.
import { createRoute, z } from '@hono/zod-openapi';
import { minorToDecimal } from '../../wallet/payments/money.ts';
import { INVOICE_TYPES, InvoiceRefused, issueInvoice, LINE_ITEMS, listInvoices, rejectInvoice, requestInvoice, type Invoice } from '../../wallet/invoices.ts';
import type { Database } from '../../db/index.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { ErrorBody, IdParam, IsoTime, json, jsonBody, NullableIsoTime, page, Pagination, SESSION, sessionErrors } from '../schemas.ts';

const StatusEnum = z.enum(['pending', 'issued', 'rejected']);
const InvoiceSchema = z
  .object({
    id: z.number().int(),
    status: StatusEnum,
    type: z.enum(INVOICE_TYPES),
    title: z.string(),
    taxId: z.string(),
    email: z.string(),
    lineItem: z.string(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    bankName: z.string().nullable(),
    bankAccount: z.string().nullable(),
    electronic: z.literal(true).openapi({ description: 'Invoices are electronic' }),
    orderNos: z.array(z.string()),
    amount: z.string().openapi({ description: 'What was paid for these top-ups (tax borne by the platform), 2 decimals', example: '73.00' }),
    currency: z.string(),
    url: z.string().nullable().openapi({ description: 'The issued e-invoice' }),
    rejectReason: z.string().nullable(),
    createdAt: IsoTime,
    decidedAt: NullableIsoTime,
  })
  .openapi('Invoice');
const AdminInvoice = InvoiceSchema.extend({ userId: z.number().int(), decidedBy: z.string().nullable() }).openapi('AdminInvoice');

const text = (max: number) => z.string().trim().min(1).max(max);
export const invoiceBody = z
  .object({
    orderNos: z
      .array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an order number'))
      .min(1)
      .max(50)
      .refine((a) => new Set(a).size === a.length, 'each order once'),
    type: z.enum(INVOICE_TYPES),
    title: text(200).openapi({ description: 'Company title' }),
    taxId: z.string().trim().regex(/^[0-9A-Za-z]{6,30}$/, '6–30 letters and digits'),
    email: z.email().max(254),
    lineItem: z.enum(LINE_ITEMS),
    address: text(300).optional().openapi({ description: 'Required for special_vat' }),
    phone: text(50).optional().openapi({ description: 'Required for special_vat' }),
    bankName: text(200).optional().openapi({ description: 'Required for special_vat' }),
    bankAccount: text(64).optional().openapi({ description: 'Required for special_vat' }),
  })
  .strict();

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
function view(i: Invoice): z.infer<typeof InvoiceSchema> {
  return {
    id: i.id,
    status: i.status,
    type: i.type,
    title: i.title,
    taxId: i.taxId,
    email: i.email,
    lineItem: i.lineItem,
    address: i.address,
    phone: i.phone,
    bankName: i.bankName,
    bankAccount: i.bankAccount,
    electronic: true,
    orderNos: i.orderNos,
    amount: minorToDecimal(i.amountMinor, 2),
    currency: i.currency,
    url: i.url,
    rejectReason: i.rejectReason,
    createdAt: new Date(i.createdAt).toISOString(),
    decidedAt: iso(i.decidedAt),
  };
}
const adminView = (i: Invoice): z.infer<typeof AdminInvoice> => ({ ...view(i), userId: i.userId, decidedBy: i.decidedBy });

const TooEarly = z
  .object({ error: z.object({ message: z.string(), code: z.string(), issues: ErrorBody.shape.error.shape.issues, eligibleAt: IsoTime.optional().openapi({ description: 'When the request becomes eligible (code `not_yet_eligible`)' }) }) })
  .openapi('InvoiceRefused');

const userBase = { tags: ['wallet'], security: SESSION, middleware: [requireUser] };
const adminBase = { tags: ['admin'], security: SESSION };
const r = {
  create: createRoute({
    ...userBase,
    method: 'post',
    path: '/wallet/invoices',
    summary: 'Request an invoice for paid top-ups (each eligible invoiceDelayDays after it was paid, invoiced once)',
    request: { body: jsonBody(invoiceBody) },
    responses: { 201: json(InvoiceSchema, 'Requested (pending)'), ...sessionErrors, 400: json(TooEarly, 'Refused; `not_yet_eligible` carries `eligibleAt`'), 409: json(ErrorBody, 'A top-up is already invoiced (`already_invoiced`)') },
  }),
  mine: createRoute({ ...userBase, method: 'get', path: '/wallet/invoices', summary: 'My invoices, newest first', request: { query: Pagination }, responses: { 200: json(page(InvoiceSchema)), ...sessionErrors } }),
  all: createRoute({
    ...adminBase,
    method: 'get',
    path: '/invoices',
    summary: 'The invoice queue, newest first',
    request: { query: Pagination.extend({ status: StatusEnum.optional(), userId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(), search: z.string().max(128).optional().openapi({ description: 'Company title or tax id (part)' }) }) },
    responses: { 200: json(page(AdminInvoice)), ...sessionErrors },
  }),
  issue: createRoute({
    ...adminBase,
    method: 'post',
    path: '/invoices/{id}/issue',
    summary: 'Issue a pending invoice: the e-invoice URL the user downloads',
    request: { params: IdParam, body: jsonBody(z.object({ url: z.url({ protocol: /^https?$/ }).max(2048) }).strict()) },
    responses: { 200: json(AdminInvoice), ...sessionErrors, 409: json(ErrorBody, 'Not pending (`invoice_not_pending`)') },
  }),
  reject: createRoute({
    ...adminBase,
    method: 'post',
    path: '/invoices/{id}/reject',
    summary: 'Reject a pending invoice with a reason (its top-ups may be invoiced again)',
    request: { params: IdParam, body: jsonBody(z.object({ reason: text(500) }).strict()) },
    responses: { 200: json(AdminInvoice), ...sessionErrors, 409: json(ErrorBody, 'Not pending (`invoice_not_pending`)') },
  }),
};

async function notPending(c: { get: (k: 'gw') => { db: Database } }, id: number): Promise<never> {
  const exists = await c.get('gw').db.get('SELECT status FROM invoices WHERE id = ?', [id]);
  if (!exists) throw new ApiError(404, 'not_found', 'No such invoice.');
  throw new ApiError(409, 'invoice_not_pending', `The invoice is ${exists.status}.`);
}

export const invoiceRoutes = routes()
  .openapi(r.create, async (c) => {
    const gw = c.get('gw');
    try {
      const inv = await requestInvoice(gw.db, c.get('user').id, c.req.valid('json'), gw.settings.current.invoiceDelayDays);
      return c.json(view(inv), 201);
    } catch (err) {
      if (!(err instanceof InvoiceRefused)) throw err;
      if (err.status === 409) throw new ApiError(409, err.code, err.message, {}, [{ path: err.path, message: err.message }]);
      const error = { message: err.message, code: err.code, issues: [{ path: err.path, message: err.message }], ...(err.eligibleAt ? { eligibleAt: new Date(err.eligibleAt).toISOString() } : {}) };
      return c.json({ error }, 400);
    }
  })
  .openapi(r.mine, async (c) => {
    const { page, pageSize } = c.req.valid('query');
    const { items, total } = await listInvoices(c.get('gw').db, { userId: c.get('user').id }, page, pageSize);
    return c.json({ items: items.map(view), total, page, pageSize }, 200);
  });

/** Mounted under /admin (admin session checked there). */
export const adminInvoiceRoutes = routes()
  .openapi(r.all, async (c) => {
    const q = c.req.valid('query');
    const { items, total } = await listInvoices(c.get('gw').db, { status: q.status, userId: q.userId, search: q.search || undefined }, q.page, q.pageSize);
    return c.json({ items: items.map(adminView), total, page: q.page, pageSize: q.pageSize }, 200);
  })
  .openapi(r.issue, async (c) => {
    const { id } = c.req.valid('param');
    const inv = await issueInvoice(c.get('gw').db, id, c.req.valid('json').url, c.get('user').username);
    return inv ? c.json(adminView(inv), 200) : notPending(c, id);
  })
  .openapi(r.reject, async (c) => {
    const { id } = c.req.valid('param');
    const inv = await rejectInvoice(c.get('gw').db, id, c.req.valid('json').reason, c.get('user').username);
    return inv ? c.json(adminView(inv), 200) : notPending(c, id);
  });
