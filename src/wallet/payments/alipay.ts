// Alipay Open Platform (direct merchant) through the official `alipay-sdk`: page / wap pay links,
// precreate QR codes, trade.query, and RSA2 verification of callbacks with the Alipay public key.
import { createPrivateKey } from 'node:crypto';
import type { AlipaySdk } from 'alipay-sdk';
import type { NotifyVerdict, OrderQueryResult, PaymentContext, PaymentCreated, PaymentOrder, PaymentProvider, RawNotify } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { cny, cnyCallbackVerdict, notifyFields, rejected, requireConfig, requireUrl, TEXT_REPLY } from './common.ts';
import { decimalToMinor, minorToDecimal } from './money.ts';

export interface AlipayConfig {
  gateway?: string; // default https://openapi.alipay.com/gateway.do
  appId: string;
  /** App private key: PEM (PKCS#1 or PKCS#8) or the bare base64 the Alipay key tool prints. */
  privateKey: string;
  alipayPublicKey: string;
  /** Optional: also require the callback's seller_id (the merchant PID) to match. */
  sellerId?: string;
  /** `page` (PC link, default), `qr` (precreate), or `auto` (wap link on mobile, page link on PC). */
  mode?: 'page' | 'qr' | 'auto';
}

const PAID = new Set(['TRADE_SUCCESS', 'TRADE_FINISHED']);

/** The key's base64 body and whether it is PKCS#8 (the SDK needs to be told; it cannot tell itself). */
export function normaliseAlipayPrivateKey(key: string): { body: string; keyType: 'PKCS1' | 'PKCS8' } {
  const body = key.replace(/-----(BEGIN|END)[A-Z ]*-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  try {
    createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return { body, keyType: 'PKCS8' };
  } catch {
    try {
      createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
      return { body, keyType: 'PKCS1' };
    } catch {
      throw new PaymentProviderError('alipay', 'privateKey is not an RSA private key', 'unsupported');
    }
  }
}

export function createAlipayProvider(config: AlipayConfig): PaymentProvider {
  requireConfig('alipay', { appId: config.appId, privateKey: config.privateKey, alipayPublicKey: config.alipayPublicKey });
  requireUrl('alipay', 'gateway', config.gateway ?? 'https://openapi.alipay.com/gateway.do');
  const key = normaliseAlipayPrivateKey(config.privateKey);
  // The SDK (and its HTTP client and crypto libraries, ~20 MB resident) is loaded on the first call,
  // not at start: most gateways never take Alipay, and the relay does not need it.
  const options = {
    appId: config.appId,
    privateKey: key.body,
    keyType: key.keyType,
    alipayPublicKey: config.alipayPublicKey.replace(/-----(BEGIN|END)[A-Z ]*-----/g, '').replace(/\s+/g, ''),
    gateway: config.gateway ?? 'https://openapi.alipay.com/gateway.do',
    signType: 'RSA2',
    camelcase: false,
    timeout: 15_000,
  } as const;
  let client: Promise<AlipaySdk> | undefined;
  const sdk = (): Promise<AlipaySdk> => (client ??= import('alipay-sdk').then((m) => new m.AlipaySdk(options)));
  const mode = config.mode ?? 'page';

  async function exec(method: string, params: Record<string, unknown>): Promise<any> {
    try {
      return await (await sdk()).exec(method, params, { validateSign: true });
    } catch (err) {
      // SDK errors carry the raw answer, never our key; keep only the message's first line.
      const msg = String((err as Error).message ?? 'error').split('\n')[0]!.slice(0, 200);
      const code = msg.includes('验签失败') || msg.includes('格式错误') ? 'bad_provider_answer' : 'provider_unreachable';
      throw new PaymentProviderError('alipay', `${method}: ${msg}`, code);
    }
  }

  async function createPayment(order: PaymentOrder, ctx: PaymentContext): Promise<PaymentCreated> {
    if (order.amount.currency !== 'CNY') throw new PaymentProviderError('alipay', 'Alipay takes CNY only', 'unsupported');
    const biz = { out_trade_no: order.orderNo, total_amount: minorToDecimal(order.amount.minor, 2), subject: order.subject };
    if (mode === 'qr') {
      const answer = await exec('alipay.trade.precreate', { notifyUrl: ctx.notifyUrl, bizContent: biz });
      if (answer?.code !== '10000' || typeof answer.qr_code !== 'string') {
        throw new PaymentProviderError('alipay', `precreate refused: ${answer?.sub_msg ?? answer?.msg ?? 'no message'}`);
      }
      return { pay: { qrCode: answer.qr_code } };
    }
    const wap = mode === 'auto' && ctx.device === 'mobile';
    const url = (await sdk()).pageExecute(wap ? 'alipay.trade.wap.pay' : 'alipay.trade.page.pay', 'GET', {
      notifyUrl: ctx.notifyUrl,
      returnUrl: ctx.returnUrl,
      bizContent: { ...biz, product_code: wap ? 'QUICK_WAP_WAY' : 'FAST_INSTANT_TRADE_PAY' },
    });
    return { pay: { url } };
  }

  async function verifyNotify(raw: RawNotify): Promise<NotifyVerdict> {
    const fields = notifyFields(raw);
    if (!fields.sign) return rejected('missing sign', fields);
    // Values are already form-decoded, so verify them as they are (V2 = no second decode).
    const client = await sdk();
    let valid = false;
    try {
      valid = client.checkNotifySignV2(fields);
    } catch {
      valid = false;
    }
    if (!valid) return rejected('bad signature', fields);
    const merchantOk = fields.app_id === config.appId && (!config.sellerId || fields.seller_id === config.sellerId);
    const paid = PAID.has(fields.trade_status ?? '');
    return cnyCallbackVerdict(fields, { merchantOk, amountField: 'total_amount', tradeNo: fields.trade_no, paid, unpaidReason: `trade_status ${fields.trade_status ?? '(none)'}` });
  }

  async function queryOrder(ref: { orderNo: string }): Promise<OrderQueryResult> {
    const answer = await exec('alipay.trade.query', { bizContent: { out_trade_no: ref.orderNo } });
    const result: OrderQueryResult = { status: 'not_found', orderNo: ref.orderNo, tradeNo: null, amount: null, raw: answer };
    if (answer?.code !== '10000') {
      if (answer?.sub_code === 'ACQ.TRADE_NOT_EXIST') return result;
      throw new PaymentProviderError('alipay', `trade.query refused: ${answer?.sub_msg ?? answer?.msg ?? 'no message'}`);
    }
    if (answer.out_trade_no !== ref.orderNo) throw new PaymentProviderError('alipay', 'trade.query answered for another order', 'bad_provider_answer');
    const status = String(answer.trade_status ?? '');
    result.status = PAID.has(status) ? 'paid' : status === 'TRADE_CLOSED' ? 'closed' : 'pending';
    result.tradeNo = answer.trade_no ? String(answer.trade_no) : null;
    result.amount = cny(decimalToMinor(String(answer.total_amount ?? ''), 2));
    return result;
  }

  return {
    id: 'alipay',
    sandbox: false,
    ack: TEXT_REPLY(200, 'success'),
    nack: TEXT_REPLY(400, 'fail'),
    createPayment,
    verifyNotify,
    queryOrder,
  };
}
