// Helpers shared by the provider modules: field parsing, constant-time comparison, outbound HTTP,
// and the order check every trusted callback must pass.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NotifyReply, NotifyVerdict, PayAmount, PaymentOrder, ProviderId, RawNotify } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { decimalToMinor } from './money.ts';

export const TEXT_REPLY = (status: number, body: string): NotifyReply => ({ status, contentType: 'text/plain; charset=utf-8', body });

/** Constant-time string comparison (length is not secret: signatures have a fixed length). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** Fields of a form-style callback: the query string, overlaid by a form body when there is one. */
export function notifyFields(raw: RawNotify): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw.query)) fields[k] = v;
  if (raw.method.toUpperCase() === 'POST' && raw.body) {
    for (const [k, v] of new URLSearchParams(raw.body)) fields[k] = v;
  }
  return fields;
}

export function rejected(reason: string, fields: Record<string, unknown>, partial: Partial<NotifyVerdict> = {}): NotifyVerdict {
  return { ok: false, paid: false, merchantOk: false, orderNo: null, tradeNo: null, amount: null, fields, ...partial, reason };
}

/**
 * The second half of trusting a callback: after the signature, the order number and the amount must
 * match the stored order exactly. Returns null when they do, or the reason they do not.
 */
export function checkAgainstOrder(verdict: NotifyVerdict, order: Pick<PaymentOrder, 'orderNo' | 'amount'>): string | null {
  if (!verdict.ok) return verdict.reason ?? 'not verified';
  if (!verdict.merchantOk) return 'merchant mismatch';
  if (verdict.orderNo !== order.orderNo) return 'order number mismatch';
  if (!verdict.amount) return 'amount missing';
  if (verdict.amount.currency !== order.amount.currency.toUpperCase()) return 'currency mismatch';
  if (verdict.amount.minor !== order.amount.minor) return `amount mismatch: paid ${verdict.amount.minor}, expected ${order.amount.minor}`;
  return null;
}

/**
 * The verdict on a signature-verified callback that pays in CNY (EPay, Lantu Pay, Alipay): trusted when
 * the merchant is ours, the amount (in yuan, `amountField`) parses and the order number is there; the
 * reason names the first thing wrong, or why a trusted callback does not credit.
 */
export function cnyCallbackVerdict(
  fields: Record<string, string>,
  c: { merchantOk: boolean; amountField: string; tradeNo: string | undefined; paid: boolean; unpaidReason: string },
): NotifyVerdict {
  const minor = decimalToMinor(fields[c.amountField], 2);
  const verdict: NotifyVerdict = {
    ok: c.merchantOk && minor !== null && !!fields.out_trade_no,
    paid: c.paid,
    merchantOk: c.merchantOk,
    orderNo: fields.out_trade_no || null,
    tradeNo: c.tradeNo || null,
    amount: cny(minor),
    reason: null,
    fields,
  };
  if (!c.merchantOk) verdict.reason = 'merchant mismatch';
  else if (minor === null) verdict.reason = `malformed ${c.amountField}`;
  else if (!fields.out_trade_no) verdict.reason = 'missing out_trade_no';
  else if (!c.paid) verdict.reason = c.unpaidReason;
  return verdict;
}

export function cny(minor: bigint | number | null): PayAmount | null {
  if (minor === null) return null;
  const n = Number(minor);
  return Number.isSafeInteger(n) ? { currency: 'CNY', minor: n } : null;
}

/** Joins `k=v` pairs sorted by key (byte order), raw values, as the MD5 protocols sign them. */
export function sortedPairs(fields: Record<string, string>, keys: string[]): string {
  return [...keys].sort(byteOrder).map((k) => `${k}=${fields[k]}`).join('&');
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

const TIMEOUT_MS = 15_000;

/** Calls a provider API and parses its JSON answer; errors name the provider, never the secret. */
export async function fetchJson(provider: ProviderId, url: string, init: RequestInit = {}): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
  } catch (err) {
    throw new PaymentProviderError(provider, `request failed (${(err as Error).name})`, 'provider_unreachable');
  }
  const text = await res.text();
  if (!res.ok) throw new PaymentProviderError(provider, `HTTP ${res.status}`, 'provider_unreachable');
  try {
    return JSON.parse(text);
  } catch {
    throw new PaymentProviderError(provider, 'answer is not JSON', 'bad_provider_answer');
  }
}

export function formBody(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

/** An http(s) base URL setting; anything else is refused when the provider is built. */
export function requireUrl(provider: ProviderId, name: string, value: unknown): void {
  let ok = false;
  try {
    const u = new URL(String(value));
    ok = (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.search && !u.hash;
  } catch {
    ok = false;
  }
  if (!ok) throw new PaymentProviderError(provider, `setting ${name} must be an http(s) URL without query or credentials`, 'unsupported');
}

export function requireConfig(provider: ProviderId, values: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== 'string' || v.length === 0) throw new PaymentProviderError(provider, `setting ${name} is missing`, 'unsupported');
  }
}
