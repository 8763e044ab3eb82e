// Lantu Pay (蓝兔支付): form-encoded POST APIs answering JSON {code: 0 | 1, msg, data}. Only the
// required fields of each API are signed: sorted `k=v&…` + `&key=<key>`, MD5, upper case.
import type { NotifyVerdict, OrderQueryResult, PaymentContext, PaymentCreated, PaymentOrder, PaymentProvider, RawNotify } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { cny, cnyCallbackVerdict, fetchJson, formBody, md5Hex, notifyFields, rejected, requireConfig, requireUrl, safeEqual, sortedPairs, TEXT_REPLY, trimSlash } from './common.ts';
import { decimalToMinor, minorToDecimal } from './money.ts';

export const LANTU_PAY_SIGNED = ['mch_id', 'out_trade_no', 'total_fee', 'body', 'timestamp', 'notify_url'];
export const LANTU_QUERY_SIGNED = ['mch_id', 'out_trade_no', 'timestamp'];
export const LANTU_NOTIFY_SIGNED = ['code', 'timestamp', 'mch_id', 'order_no', 'out_trade_no', 'pay_no', 'total_fee'];

/** The API paths come from third-party clients, not a published spec: every one can be overridden. */
export interface LantuPaths {
  wxpayNative: string;
  wxpayH5: string;
  alipayNative: string;
  query: string;
}

export const LANTU_DEFAULT_PATHS: LantuPaths = {
  wxpayNative: '/api/wxpay/native',
  wxpayH5: '/api/wxpay/jump_h5',
  alipayNative: '/api/alipay/native',
  query: '/api/wxpay/get_pay_order',
};

export interface LantuConfig {
  baseUrl?: string; // default https://api.ltzf.cn
  mchId: string;
  key: string;
  paths?: Partial<LantuPaths>;
  /** Passed as `time_expire` (e.g. "5m"); unsigned. */
  timeExpire?: string;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
}

export function lantuSign(fields: Record<string, string>, signedKeys: string[], key: string): string {
  return md5Hex(`${sortedPairs(fields, signedKeys)}&key=${key}`).toUpperCase();
}

export function createLantuProvider(config: LantuConfig): PaymentProvider {
  requireConfig('lantu', { mchId: config.mchId, key: config.key });
  requireUrl('lantu', 'baseUrl', config.baseUrl ?? 'https://api.ltzf.cn');
  const base = trimSlash(config.baseUrl ?? 'https://api.ltzf.cn');
  const paths = { ...LANTU_DEFAULT_PATHS, ...config.paths };
  const now = config.now ?? (() => Math.floor(Date.now() / 1000));

  async function call(path: string, fields: Record<string, string>, signedKeys: string[]): Promise<any> {
    const answer = await fetchJson('lantu', base + path, formBody({ ...fields, sign: lantuSign(fields, signedKeys, config.key) }));
    if (answer?.code !== 0 && answer?.code !== '0') {
      throw new PaymentProviderError('lantu', `refused: ${String(answer?.msg ?? 'no message').slice(0, 200)}`);
    }
    return answer.data;
  }

  async function createPayment(order: PaymentOrder, ctx: PaymentContext): Promise<PaymentCreated> {
    if (order.amount.currency !== 'CNY') throw new PaymentProviderError('lantu', 'Lantu takes CNY only', 'unsupported');
    const channel = order.channel ?? 'wxpay';
    const h5 = channel === 'wxpay' && ctx.device === 'mobile';
    const fields: Record<string, string> = {
      mch_id: config.mchId,
      out_trade_no: order.orderNo,
      total_fee: minorToDecimal(order.amount.minor, 2),
      body: order.subject,
      timestamp: String(now()),
      notify_url: ctx.notifyUrl,
      return_url: ctx.returnUrl,
    };
    if (config.timeExpire) fields.time_expire = config.timeExpire;
    const path = channel === 'alipay' ? paths.alipayNative : h5 ? paths.wxpayH5 : paths.wxpayNative;
    const data = await call(path, fields, LANTU_PAY_SIGNED);
    if (h5) {
      // jump_h5 answers the URL itself as `data`; other H5 variants wrap it.
      const url = typeof data === 'string' ? data : (data?.h5_url ?? data?.url);
      if (typeof url === 'string' && url) return { pay: { url } };
    } else {
      const qr = data?.code_url ?? data?.QRcode_url;
      if (typeof qr === 'string' && qr) return { pay: { qrCode: qr } };
    }
    throw new PaymentProviderError('lantu', 'answer has no payment link', 'bad_provider_answer');
  }

  async function verifyNotify(raw: RawNotify): Promise<NotifyVerdict> {
    const fields = notifyFields(raw);
    if (!fields.sign) return rejected('missing sign', fields);
    if (LANTU_NOTIFY_SIGNED.some((k) => fields[k] === undefined)) return rejected('missing signed field', fields);
    if (!safeEqual(lantuSign(fields, LANTU_NOTIFY_SIGNED, config.key), fields.sign.toUpperCase())) return rejected('bad signature', fields);
    const paid = fields.code === '0';
    return cnyCallbackVerdict(fields, { merchantOk: fields.mch_id === config.mchId, amountField: 'total_fee', tradeNo: fields.order_no, paid, unpaidReason: `code ${fields.code}` });
  }

  async function queryOrder(ref: { orderNo: string }): Promise<OrderQueryResult> {
    const fields = { mch_id: config.mchId, out_trade_no: ref.orderNo, timestamp: String(now()) };
    let data: any;
    try {
      data = await call(paths.query, fields, LANTU_QUERY_SIGNED);
    } catch (err) {
      if (err instanceof PaymentProviderError && err.code === 'provider_refused') {
        return { status: 'not_found', orderNo: ref.orderNo, tradeNo: null, amount: null, raw: { msg: err.message } };
      }
      throw err;
    }
    if (data?.out_trade_no !== undefined && String(data.out_trade_no) !== ref.orderNo) {
      throw new PaymentProviderError('lantu', 'order query answered for another order', 'bad_provider_answer');
    }
    return {
      status: String(data?.pay_status) === '1' ? 'paid' : 'pending',
      orderNo: ref.orderNo,
      tradeNo: data?.order_no ? String(data.order_no) : null,
      amount: cny(decimalToMinor(String(data?.total_fee ?? ''), 2)),
      raw: data,
    };
  }

  return {
    id: 'lantu',
    sandbox: false,
    ack: TEXT_REPLY(200, 'SUCCESS'),
    nack: TEXT_REPLY(400, 'FAIL'),
    createPayment,
    verifyNotify,
    queryOrder,
  };
}
