// A fake Lantu Pay API: the pay endpoints (WeChat native / H5, Alipay native) and the order query
// check the MD5 signature over exactly their required fields and answer {code, msg, data}; pay()
// POSTs the signed form notify and re-sends until it gets exactly `SUCCESS`.
import { createHash } from 'node:crypto';
import {
  deliverNotify, exactAck, json, sendWithTwist, startFakeServer, text, tradeNo,
  type Delivery, type ParsedRequest, type PayOptions, type Reply,
} from './shared.ts';

export interface FakeLantuOptions {
  mchId: string;
  key: string;
  retryDelaysMs?: number[];
}

export interface FakeLantuOrder {
  outTradeNo: string;
  orderNo: string;
  payNo: string;
  totalFee: string;
  body: string;
  notifyUrl: string;
  attach?: string;
  tradeType: 'NATIVE' | 'H5' | 'ALIPAY';
  payStatus: 0 | 1;
}

export interface FakeLantu {
  url: string;
  orders: Map<string, FakeLantuOrder>;
  rejections: { path: string; reason: string }[];
  pay(outTradeNo: string, opts?: PayOptions): Promise<Delivery[]>;
  close(): Promise<void>;
}

const PAY_SIGNED = ['mch_id', 'out_trade_no', 'total_fee', 'body', 'timestamp', 'notify_url'];
const QUERY_SIGNED = ['mch_id', 'out_trade_no', 'timestamp'];
const NOTIFY_SIGNED = ['code', 'timestamp', 'mch_id', 'order_no', 'out_trade_no', 'pay_no', 'total_fee'];

function sign(fields: Record<string, string>, keys: string[], key: string): string {
  const base = [...keys].sort().map((k) => `${k}=${fields[k]}`).join('&');
  return createHash('md5').update(`${base}&key=${key}`).digest('hex').toUpperCase();
}

export async function startFakeLantu(opts: FakeLantuOptions): Promise<FakeLantu> {
  const orders = new Map<string, FakeLantuOrder>();
  const rejections: { path: string; reason: string }[] = [];
  let baseUrl = '';

  function check(req: ParsedRequest, keys: string[]): string | null {
    const f = req.fields;
    for (const k of keys) if (!f[k]) return `missing ${k}`;
    if (f.mch_id !== opts.mchId) return '商户号不存在';
    if (f.sign !== sign(f, keys, opts.key)) return '签名错误';
    return null;
  }

  function payApi(req: ParsedRequest, tradeType: FakeLantuOrder['tradeType']): Reply {
    const bad = check(req, PAY_SIGNED);
    if (bad) {
      rejections.push({ path: req.path, reason: bad });
      return json({ code: 1, msg: bad, data: null });
    }
    const f = req.fields;
    if (!/^\d+(\.\d{1,2})?$/.test(f.total_fee!)) return json({ code: 1, msg: '金额格式错误', data: null });
    let order = orders.get(f.out_trade_no!);
    if (!order) {
      order = { outTradeNo: f.out_trade_no!, orderNo: tradeNo('WX'), payNo: tradeNo('42000'), totalFee: f.total_fee!, body: f.body!, notifyUrl: f.notify_url!, attach: f.attach, tradeType, payStatus: 0 };
      orders.set(order.outTradeNo, order);
    }
    if (tradeType === 'H5') return json({ code: 0, msg: 'H5支付链接获取成功', data: `${baseUrl}/h5/${order.orderNo}`, request_id: order.orderNo });
    const codeUrl = tradeType === 'ALIPAY' ? `https://qr.alipay.com/${order.orderNo}` : `weixin://wxpay/bizpayurl?pr=${order.orderNo}`;
    return json({ code: 0, msg: '微信Native下单成功', data: { code_url: codeUrl, QRcode_url: `${baseUrl}/qrcode/${order.orderNo}.png` }, request_id: order.orderNo });
  }

  function handle(req: ParsedRequest): Reply {
    if (req.method !== 'POST') return text('method not allowed', 405);
    if (req.path === '/api/wxpay/native') return payApi(req, 'NATIVE');
    if (req.path === '/api/wxpay/jump_h5') return payApi(req, 'H5');
    if (req.path === '/api/alipay/native') return payApi(req, 'ALIPAY');
    if (req.path === '/api/wxpay/get_pay_order') {
      const bad = check(req, QUERY_SIGNED);
      if (bad) {
        rejections.push({ path: req.path, reason: bad });
        return json({ code: 1, msg: bad, data: null });
      }
      const o = orders.get(req.fields.out_trade_no!);
      if (!o) return json({ code: 1, msg: '订单不存在', data: null });
      return json({
        code: 0, msg: '查询成功',
        data: { mch_id: opts.mchId, out_trade_no: o.outTradeNo, order_no: o.orderNo, pay_no: o.payStatus ? o.payNo : '', total_fee: o.totalFee, pay_status: o.payStatus, trade_type: o.tradeType, attach: o.attach ?? '' },
      });
    }
    return text('not found', 404);
  }

  async function pay(outTradeNo: string, p: PayOptions = {}): Promise<Delivery[]> {
    const o = orders.get(outTradeNo);
    if (!o) throw new Error(`fake lantu: no order ${outTradeNo}`);
    o.payStatus = 1;
    const f: Record<string, string> = {
      code: '0',
      timestamp: String(Math.floor(Date.now() / 1000)),
      mch_id: opts.mchId,
      order_no: o.orderNo,
      out_trade_no: o.outTradeNo,
      pay_no: o.payNo,
      total_fee: o.totalFee,
    };
    if (p.twist === 'tampered-amount') f.total_fee = p.tamperedAmount ?? '0.01';
    if (p.twist === 'wrong-merchant') f.mch_id = `${opts.mchId}9`;
    f.sign = sign(f, NOTIFY_SIGNED, opts.key);
    if (p.twist === 'bad-signature') f.total_fee = p.tamperedAmount ?? '0.01';
    // Unsigned extras, as the real notify carries them.
    Object.assign(f, { pay_channel: o.tradeType === 'ALIPAY' ? 'alipay' : 'wxpay', trade_type: o.tradeType, success_time: new Date().toISOString(), attach: o.attach ?? '', openid: 'o_fake_openid' });
    const policy = { delaysMs: opts.retryDelaysMs ?? [50, 100, 200], isAck: exactAck('SUCCESS') };
    return sendWithTwist(p, () => deliverNotify({ url: o.notifyUrl, method: 'POST', fields: f }, policy));
  }

  const server = await startFakeServer(handle, pay);
  baseUrl = server.url;
  return { url: server.url, orders, rejections, pay, close: server.close };
}
