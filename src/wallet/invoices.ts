// Enterprise invoices for paid top-ups. A top-up is eligible `invoiceDelayDays` (setting, read when
// the invoice is requested) after it was paid, and is invoiced once (`invoice_orders` primary key).
// Invoice amount = what was paid (tax borne by the platform). pending → issued (url) | rejected (reason).
import { isUniqueViolation, type Database, type Queryable } from '../db/index.ts';
import { walletClock } from './clock.ts';
import { findOrder } from './orders.ts';

export const INVOICE_TYPES = ['standard', 'special_vat'] as const;
export const LINE_ITEMS = ['Information technology services', 'Information service fees', 'Software service fees', 'Platform service fees'] as const;
export type InvoiceStatus = 'pending' | 'issued' | 'rejected';

export interface InvoiceRequest {
  orderNos: string[];
  type: (typeof INVOICE_TYPES)[number];
  title: string;
  taxId: string;
  email: string;
  lineItem: (typeof LINE_ITEMS)[number];
  address?: string;
  phone?: string;
  bankName?: string;
  bankAccount?: string;
}

export interface Invoice {
  id: number;
  userId: number;
  status: InvoiceStatus;
  type: InvoiceRequest['type'];
  title: string;
  taxId: string;
  email: string;
  lineItem: string;
  address: string | null;
  phone: string | null;
  bankName: string | null;
  bankAccount: string | null;
  currency: string;
  amountMinor: number;
  orderNos: string[];
  url: string | null;
  rejectReason: string | null;
  createdAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
}

/** Why an invoice request is refused: 400 naming the place, or 409 for a top-up already invoiced. */
export class InvoiceRefused extends Error {
  constructor(
    readonly status: 400 | 409,
    readonly code: string,
    message: string,
    readonly path: (string | number)[],
    readonly eligibleAt?: number,
  ) {
    super(message);
  }
}

const DAY_MS = 86_400_000;

export async function requestInvoice(db: Database, userId: number, req: InvoiceRequest, delayDays: number, now = walletClock.now()): Promise<Invoice> {
  if (req.type === 'special_vat') {
    for (const f of ['address', 'phone', 'bankName', 'bankAccount'] as const) {
      if (!req[f]) throw new InvoiceRefused(400, 'invalid_request', `${f}: required for a special VAT invoice`, [f]);
    }
  }
  let currency: string | null = null;
  let amount = 0;
  let latestEligible = 0;
  for (const [i, orderNo] of req.orderNos.entries()) {
    const o = await findOrder(db, orderNo);
    if (!o || o.userId !== userId) throw new InvoiceRefused(400, 'order_not_found', `orderNos.${i}: no such order of yours`, ['orderNos', i]);
    if (o.status !== 'paid' || o.paidAt === null) throw new InvoiceRefused(400, 'order_not_paid', `orderNos.${i}: order ${orderNo} is ${o.status}; only paid top-ups are invoiced`, ['orderNos', i]);
    if (o.provider === 'sandbox') throw new InvoiceRefused(400, 'order_not_invoiceable', `orderNos.${i}: sandbox orders are not real payments`, ['orderNos', i]);
    if (currency !== null && o.currency !== currency) throw new InvoiceRefused(400, 'mixed_currencies', `orderNos.${i}: one invoice covers payments in one currency`, ['orderNos', i]);
    currency = o.currency;
    amount += o.payMinor;
    latestEligible = Math.max(latestEligible, o.paidAt + delayDays * DAY_MS);
  }
  if (latestEligible > now) {
    const at = new Date(latestEligible).toISOString();
    throw new InvoiceRefused(400, 'not_yet_eligible', `orderNos: a top-up can be invoiced ${delayDays} days after it was paid; this request becomes eligible at ${at}`, ['orderNos'], latestEligible);
  }
  try {
    const id = await db.tx(async (q) => {
      const row = await q.get<{ id: number }>(
        `INSERT INTO invoices (user_id, type, title, tax_id, email, line_item, address, phone, bank_name, bank_account, currency, amount_minor, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id`,
        [userId, req.type, req.title, req.taxId, req.email, req.lineItem, req.address ?? null, req.phone ?? null, req.bankName ?? null, req.bankAccount ?? null, currency, amount, now],
      );
      for (const orderNo of req.orderNos) await q.run('INSERT INTO invoice_orders (order_no, invoice_id) VALUES (?, ?)', [orderNo, row!.id]);
      return Number(row!.id);
    });
    return (await findInvoice(db, id))!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new InvoiceRefused(409, 'already_invoiced', 'orderNos: one of these top-ups is already on an invoice', ['orderNos']);
    throw err;
  }
}

function invoiceFromRow(r: Record<string, any>, orderNos: string[]): Invoice {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    status: r.status,
    type: r.type,
    title: r.title,
    taxId: r.tax_id,
    email: r.email,
    lineItem: r.line_item,
    address: r.address ?? null,
    phone: r.phone ?? null,
    bankName: r.bank_name ?? null,
    bankAccount: r.bank_account ?? null,
    currency: r.currency,
    amountMinor: Number(r.amount_minor),
    orderNos,
    url: r.url ?? null,
    rejectReason: r.reject_reason ?? null,
    createdAt: Number(r.created_at),
    decidedAt: r.decided_at === null || r.decided_at === undefined ? null : Number(r.decided_at),
    decidedBy: r.decided_by ?? null,
  };
}

/** Rows → invoices with their order numbers. */
async function withOrders(q: Queryable, rows: Record<string, any>[]): Promise<Invoice[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.id));
  const links = await q.all<{ order_no: string; invoice_id: number }>(
    `SELECT order_no, invoice_id FROM invoice_orders WHERE invoice_id IN (${ids.map(() => '?').join(', ')}) ORDER BY order_no`,
    ids,
  );
  return rows.map((r) => {
    const own = links.filter((l) => Number(l.invoice_id) === Number(r.id)).map((l) => l.order_no);
    // A rejected invoice released its top-ups; the numbers it covered are kept in released_orders.
    return invoiceFromRow(r, own.length ? own : r.released_orders ? (JSON.parse(r.released_orders) as string[]) : []);
  });
}

export async function findInvoice(q: Queryable, id: number): Promise<Invoice | undefined> {
  const row = await q.get('SELECT * FROM invoices WHERE id = ?', [id]);
  return row ? (await withOrders(q, [row]))[0] : undefined;
}

export interface InvoiceFilter {
  userId?: number;
  status?: InvoiceStatus;
  search?: string;
}

export async function listInvoices(db: Database, f: InvoiceFilter, page: number, pageSize: number): Promise<{ items: Invoice[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.userId !== undefined) where.push('user_id = ?') && params.push(f.userId);
  if (f.status) where.push('status = ?') && params.push(f.status);
  if (f.search) {
    const like = `%${f.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    where.push(`(LOWER(title) LIKE LOWER(?) ESCAPE '\\' OR LOWER(tax_id) LIKE LOWER(?) ESCAPE '\\')`);
    params.push(like, like);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [rows, total] = await Promise.all([
    db.all(`SELECT * FROM invoices ${w} ORDER BY id DESC LIMIT ? OFFSET ?`, [...params, pageSize, (page - 1) * pageSize]),
    db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM invoices ${w}`, params),
  ]);
  return { items: await withOrders(db, rows), total: Number(total?.n ?? 0) };
}

/** pending → issued with the e-invoice's URL. */
export async function issueInvoice(db: Database, id: number, url: string, by: string, now = walletClock.now()): Promise<Invoice | null> {
  const r = await db.run(`UPDATE invoices SET status = 'issued', url = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'`, [url, now, by, id]);
  return r.changes === 1 ? ((await findInvoice(db, id)) ?? null) : null;
}

/** pending → rejected with a reason; its top-ups may be invoiced again (their numbers stay on the invoice). */
export async function rejectInvoice(db: Database, id: number, reason: string, by: string, now = walletClock.now()): Promise<Invoice | null> {
  const done = await db.tx(async (q) => {
    const orders = await q.all<{ order_no: string }>('SELECT order_no FROM invoice_orders WHERE invoice_id = ? ORDER BY order_no', [id]);
    const r = await q.run(
      `UPDATE invoices SET status = 'rejected', reject_reason = ?, released_orders = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'`,
      [reason, JSON.stringify(orders.map((o) => o.order_no)), now, by, id],
    );
    if (r.changes !== 1) return false;
    await q.run('DELETE FROM invoice_orders WHERE invoice_id = ?', [id]);
    return true;
  });
  return done ? ((await findInvoice(db, id)) ?? null) : null;
}
