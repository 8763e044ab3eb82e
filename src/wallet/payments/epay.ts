// EPay ("易支付") aggregator: the browser goes to submit.php (GET link or posted form), or mapi.php
// answers a pay URL / QR code; callbacks are GET (or POST form) signed with MD5 over sorted fields.
import type { NotifyVerdict, OrderQueryResult, PaymentContext, PaymentCreated, PaymentOrder, PaymentProvider, RawNotify } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { byteOrder, cny, cnyCallbackVerdict, fetchJson, formBody, md5Hex, notifyFields, rejected, requireConfig, requireUrl, safeEqual, TEXT_REPLY, trimSlash } from './common.ts';
import { decimalToMinor, minorToDecimal } from './money.ts';

export type EpaySignStyle = 'append' | 'ampersand-key';

export interface EpayConfig {
  baseUrl: string;
  pid: string;
  key: string;
  /** `append`: md5(str + key) (the common form); `ampersand-key`: md5(str + "&key=" + key). */
  signStyle?: EpaySignStyle;
  /** `redirect` (GET link to submit.php, default), `form` (auto-posted form) or `mapi` (server call). */
  mode?: 'redirect' | 'form' | 'mapi';
}

/** The signing string: drop sign, sign_type and empty values; sort keys by byte order; raw `k=v&…`. */
export function epaySignString(fields: Record<string, string | undefined>): string {
  return Object.keys(fields)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && fields[k] !== undefined && fields[k] !== '')
    .sort(byteOrder)
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

export function epaySign(fields: Record<string, string | undefined>, key: string, style: EpaySignStyle = 'append'): string {
  const base = epaySignString(fields);
  return md5Hex(style === 'append' ? base + key : `${base}&key=${key}`);
}

export function createEpayProvider(config: EpayConfig): PaymentProvider {
  requireConfig('epay', { baseUrl: config.baseUrl, pid: config.pid, key: config.key });
  requireUrl('epay', 'baseUrl', config.baseUrl);
  const base = trimSlash(config.baseUrl);
  const style = config.signStyle ?? 'append';
  const mode = config.mode ?? 'redirect';

  const signed = (fields: Record<string, string>) => ({ ...fields, sign: epaySign(fields, config.key, style), sign_type: 'MD5' });

  async function createPayment(order: PaymentOrder, ctx: PaymentContext): Promise<PaymentCreated> {
    if (order.amount.currency !== 'CNY') throw new PaymentProviderError('epay', 'EPay takes CNY only', 'unsupported');
    const fields: Record<string, string> = {
      pid: config.pid,
      type: order.channel ?? 'alipay',
      out_trade_no: order.orderNo,
      notify_url: ctx.notifyUrl,
      return_url: ctx.returnUrl,
      name: order.subject,
      money: minorToDecimal(order.amount.minor, 2),
      device: ctx.device ?? 'pc',
    };
    if (mode === 'form') return { pay: { form: { action: `${base}/submit.php`, method: 'POST', fields: signed(fields) } } };
    if (mode === 'redirect') return { pay: { url: `${base}/submit.php?${new URLSearchParams(signed(fields))}` } };
    if (ctx.clientIp) fields.clientip = ctx.clientIp;
    const answer = await fetchJson('epay', `${base}/mapi.php`, formBody(signed(fields)));
    if (answer?.code !== 1 && answer?.code !== '1') throw new PaymentProviderError('epay', `mapi refused: ${String(answer?.msg ?? 'no message').slice(0, 200)}`);
    const tradeNo = answer.trade_no ? String(answer.trade_no) : undefined;
    if (typeof answer.payurl === 'string' && answer.payurl) return { pay: { url: answer.payurl }, tradeNo };
    if (typeof answer.qrcode === 'string' && answer.qrcode) return { pay: { qrCode: answer.qrcode }, tradeNo };
    throw new PaymentProviderError('epay', 'mapi answer has neither payurl nor qrcode', 'bad_provider_answer');
  }

  async function verifyNotify(raw: RawNotify): Promise<NotifyVerdict> {
    const fields = notifyFields(raw);
    if (!fields.sign) return rejected('missing sign', fields);
    if (!safeEqual(epaySign(fields, config.key, style), fields.sign.toLowerCase())) return rejected('bad signature', fields);
    const paid = fields.trade_status === 'TRADE_SUCCESS';
    return cnyCallbackVerdict(fields, { merchantOk: fields.pid === config.pid, amountField: 'money', tradeNo: fields.trade_no, paid, unpaidReason: `trade_status ${fields.trade_status ?? '(none)'}` });
  }

  async function queryOrder(ref: { orderNo: string }): Promise<OrderQueryResult> {
    const q = new URLSearchParams({ act: 'order', pid: config.pid, key: config.key, out_trade_no: ref.orderNo });
    const answer = await fetchJson('epay', `${base}/api.php?${q}`);
    const result: OrderQueryResult = { status: 'not_found', orderNo: ref.orderNo, tradeNo: null, amount: null, raw: answer };
    if (answer?.code !== 1 && answer?.code !== '1') return result;
    if (answer.out_trade_no !== undefined && String(answer.out_trade_no) !== ref.orderNo) {
      throw new PaymentProviderError('epay', 'order query answered for another order', 'bad_provider_answer');
    }
    result.status = String(answer.status) === '1' ? 'paid' : 'pending';
    result.tradeNo = answer.trade_no ? String(answer.trade_no) : null;
    result.amount = cny(decimalToMinor(String(answer.money ?? ''), 2));
    return result;
  }

  return {
    id: 'epay',
    sandbox: false,
    ack: TEXT_REPLY(200, 'success'),
    nack: TEXT_REPLY(400, 'fail'),
    createPayment,
    verifyNotify,
    queryOrder,
  };
}
