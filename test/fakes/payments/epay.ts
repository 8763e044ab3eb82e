// A fake EPay gateway: submit.php (GET or POST form) and mapi.php check the MD5 signature and create a
// pending order; api.php?act=order answers queries; pay() sends the signed notify (GET by default,
// POST form if configured) and re-sends until it gets exactly `success`.
import { createHash } from 'node:crypto';
import {
  deliverNotify, exactAck, html, json, sendWithTwist, startFakeServer, text, tradeNo,
  type Delivery, type NotifyTwist, type ParsedRequest, type PayOptions, type Reply,
} from './shared.ts';

export interface FakeEpayOptions {
  pid: string;
  key: string;
  signStyle?: 'append' | 'ampersand-key';
  notifyMethod?: 'GET' | 'POST';
  retryDelaysMs?: number[];
}

export interface FakeEpayOrder {
  outTradeNo: string;
  tradeNo: string;
  type: string;
  name: string;
  money: string;
  notifyUrl: string;
  param?: string;
  status: 0 | 1;
}

export interface FakeEpay {
  url: string;
  orders: Map<string, FakeEpayOrder>;
  /** Requests refused for a bad signature or unknown merchant. */
  rejections: { path: string; reason: string }[];
  pay(outTradeNo: string, opts?: PayOptions): Promise<Delivery[]>;
  close(): Promise<void>;
}

// Written independently of src/ (the fake must not share the code it checks).
function sign(fields: Record<string, string>, key: string, style: 'append' | 'ampersand-key'): string {
  const base = Object.keys(fields)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
  return createHash('md5').update(style === 'append' ? base + key : `${base}&key=${key}`).digest('hex');
}

export async function startFakeEpay(opts: FakeEpayOptions): Promise<FakeEpay> {
  const style = opts.signStyle ?? 'append';
  const orders = new Map<string, FakeEpayOrder>();
  const rejections: { path: string; reason: string }[] = [];
  let baseUrl = '';

  function checkSigned(req: ParsedRequest): string | null {
    const f = req.fields;
    if (f.pid !== opts.pid) return 'unknown merchant';
    if (!f.sign || f.sign !== sign(f, opts.key, style)) return 'bad sign';
    for (const k of ['type', 'out_trade_no', 'notify_url', 'name', 'money']) if (!f[k]) return `missing ${k}`;
    if (!/^\d+(\.\d{1,2})?$/.test(f.money!)) return 'bad money';
    return null;
  }

  function createOrder(f: Record<string, string>): FakeEpayOrder {
    const existing = orders.get(f.out_trade_no!);
    if (existing) return existing;
    const order: FakeEpayOrder = { outTradeNo: f.out_trade_no!, tradeNo: tradeNo('2026'), type: f.type!, name: f.name!, money: f.money!, notifyUrl: f.notify_url!, param: f.param, status: 0 };
    orders.set(order.outTradeNo, order);
    return order;
  }

  function handle(req: ParsedRequest): Reply {
    if (req.path === '/submit.php') {
      const bad = checkSigned(req);
      if (bad) {
        rejections.push({ path: req.path, reason: bad });
        return html(`<h3>签名校验失败 (${bad})</h3>`, 400);
      }
      const order = createOrder(req.fields);
      return html(`<html><body>Pay ${order.money} for ${order.name} (${order.tradeNo})</body></html>`);
    }
    if (req.path === '/mapi.php' && req.method === 'POST') {
      const bad = checkSigned(req);
      if (bad) {
        rejections.push({ path: req.path, reason: bad });
        return json({ code: -1, msg: bad });
      }
      const order = createOrder(req.fields);
      const link = `${baseUrl}/pay/${order.tradeNo}`;
      return json(order.type === 'wxpay' ? { code: 1, trade_no: order.tradeNo, qrcode: `weixin://wxpay/bizpayurl?pr=${order.tradeNo}` } : { code: 1, trade_no: order.tradeNo, payurl: link });
    }
    if (req.path === '/api.php' && req.query.get('act') === 'order') {
      if (req.query.get('pid') !== opts.pid || req.query.get('key') !== opts.key) {
        rejections.push({ path: req.path, reason: 'bad key' });
        return json({ code: -3, msg: 'KEY校验失败' });
      }
      const order = orders.get(req.query.get('out_trade_no') ?? '');
      if (!order) return json({ code: -1, msg: '订单号不存在' });
      return json({ code: 1, msg: '查询订单号成功！', trade_no: order.tradeNo, out_trade_no: order.outTradeNo, type: order.type, pid: opts.pid, name: order.name, money: order.money, status: order.status, param: order.param ?? '' });
    }
    return text('not found', 404);
  }

  function notifyFields(order: FakeEpayOrder, twist: NotifyTwist, tampered?: string): Record<string, string> {
    const f: Record<string, string> = {
      pid: opts.pid,
      trade_no: order.tradeNo,
      out_trade_no: order.outTradeNo,
      type: order.type,
      name: order.name,
      money: order.money,
      trade_status: 'TRADE_SUCCESS',
      param: order.param ?? '',
    };
    if (twist === 'tampered-amount') f.money = tampered ?? '0.01';
    if (twist === 'wrong-merchant') f.pid = `${opts.pid}9`;
    f.sign = sign(f, opts.key, style);
    f.sign_type = 'MD5';
    if (twist === 'bad-signature') f.money = tampered ?? '0.01'; // changed after signing
    return f;
  }

  async function pay(outTradeNo: string, p: PayOptions = {}): Promise<Delivery[]> {
    const order = orders.get(outTradeNo);
    if (!order) throw new Error(`fake epay: no order ${outTradeNo}`);
    order.status = 1;
    const fields = notifyFields(order, p.twist ?? 'none', p.tamperedAmount);
    const policy = { delaysMs: opts.retryDelaysMs ?? [50, 100, 200], isAck: exactAck('success') };
    return sendWithTwist(p, () => deliverNotify({ url: order.notifyUrl, method: opts.notifyMethod ?? 'GET', fields }, policy));
  }

  const server = await startFakeServer(handle, pay);
  baseUrl = server.url;
  return { url: server.url, orders, rejections, pay, close: server.close };
}
