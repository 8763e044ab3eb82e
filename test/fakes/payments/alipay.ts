// A fake Alipay Open Platform gateway (gateway.do): verifies each request's RSA2 signature with the
// app public key; page/wap pay (browser GET) and precreate create a pending trade; trade.query answers
// it; answers are signed over the exact `*_response` JSON text with the platform private key. pay()
// POSTs the RSA2-signed form notify and re-sends until it gets exactly `success`.
import { createSign, createVerify, randomUUID, type KeyObject } from 'node:crypto';
import {
  deliverNotify, exactAck, html, sendWithTwist, startFakeServer, text, tradeNo,
  type Delivery, type ParsedRequest, type PayOptions, type Reply,
} from './shared.ts';

export interface FakeAlipayOptions {
  appId: string;
  /** Verifies our requests. */
  appPublicKey: KeyObject | string;
  /** Signs answers and notifies (its public half is what the merchant configures). */
  platformPrivateKey: KeyObject | string;
  sellerId?: string;
  retryDelaysMs?: number[];
}

export interface FakeAlipayTrade {
  outTradeNo: string;
  tradeNo: string;
  totalAmount: string;
  subject: string;
  notifyUrl: string;
  method: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS';
}

export interface FakeAlipay {
  url: string;
  gateway: string;
  trades: Map<string, FakeAlipayTrade>;
  rejections: { method: string; reason: string }[];
  pay(outTradeNo: string, opts?: PayOptions): Promise<Delivery[]>;
  close(): Promise<void>;
}

const now = () => new Date().toISOString().replace('T', ' ').slice(0, 19);

export async function startFakeAlipay(opts: FakeAlipayOptions): Promise<FakeAlipay> {
  const trades = new Map<string, FakeAlipayTrade>();
  const rejections: { method: string; reason: string }[] = [];

  const rsaSign = (content: string) => createSign('RSA-SHA256').update(content, 'utf8').sign(opts.platformPrivateKey, 'base64');
  const content = (f: Record<string, string>, skip: string[]) =>
    Object.keys(f).filter((k) => !skip.includes(k)).sort().map((k) => `${k}=${f[k]}`).join('&');

  /** An answer whose signature covers the exact text of the `*_response` object. */
  function signedAnswer(method: string, body: Record<string, unknown>): Reply {
    const inner = JSON.stringify(body);
    return { status: 200, contentType: 'application/json; charset=utf-8', body: `{"${method.replaceAll('.', '_')}_response":${inner},"sign":"${rsaSign(inner)}"}` };
  }

  function checkRequest(f: Record<string, string>): string | null {
    if (f.app_id !== opts.appId) return 'isv.invalid-app-id';
    if (f.sign_type !== 'RSA2' || !f.sign) return 'isv.invalid-signature-type';
    const ok = createVerify('RSA-SHA256').update(content(f, ['sign']), 'utf8').verify(opts.appPublicKey, f.sign, 'base64');
    return ok ? null : 'isv.invalid-signature';
  }

  function biz(f: Record<string, string>): Record<string, string> | null {
    try {
      return JSON.parse(f.biz_content ?? '');
    } catch {
      return null;
    }
  }

  function createTrade(method: string, f: Record<string, string>, b: Record<string, string>): FakeAlipayTrade | string {
    if (!b.out_trade_no || !b.subject || !/^\d+(\.\d{1,2})?$/.test(b.total_amount ?? '')) return 'isv.missing-or-invalid-biz-field';
    const existing = trades.get(b.out_trade_no);
    if (existing) return existing;
    const t: FakeAlipayTrade = { outTradeNo: b.out_trade_no, tradeNo: tradeNo('2026112722001'), totalAmount: b.total_amount!, subject: b.subject, notifyUrl: f.notify_url ?? '', method, status: 'WAIT_BUYER_PAY' };
    trades.set(t.outTradeNo, t);
    return t;
  }

  function handle(req: ParsedRequest): Reply {
    if (req.path !== '/gateway.do') return text('not found', 404);
    const f = req.fields;
    const method = f.method ?? '';
    const bad = checkRequest(f);
    const b = biz(f);
    const page = method === 'alipay.trade.page.pay' || method === 'alipay.trade.wap.pay';
    if (bad || !b) {
      rejections.push({ method, reason: bad ?? 'bad biz_content' });
      if (page) return html(`<h3>支付宝: ${bad ?? 'bad biz_content'}</h3>`, 400);
      return signedAnswer(method, { code: '40002', msg: 'Invalid Arguments', sub_code: bad ?? 'isv.invalid-biz-content', sub_msg: '验签出错' });
    }
    if (page) {
      const t = createTrade(method, f, b);
      if (typeof t === 'string') return html(`<h3>${t}</h3>`, 400);
      return html(`<html><body>收银台 ${t.subject} ¥${t.totalAmount}</body></html>`);
    }
    if (method === 'alipay.trade.precreate') {
      const t = createTrade(method, f, b);
      if (typeof t === 'string') return signedAnswer(method, { code: '40004', msg: 'Business Failed', sub_code: t, sub_msg: t });
      return signedAnswer(method, { code: '10000', msg: 'Success', out_trade_no: t.outTradeNo, qr_code: `https://qr.alipay.com/bax0${t.tradeNo}` });
    }
    if (method === 'alipay.trade.query') {
      const t = trades.get(b.out_trade_no ?? '');
      if (!t) return signedAnswer(method, { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在', out_trade_no: b.out_trade_no });
      return signedAnswer(method, {
        code: '10000', msg: 'Success', trade_no: t.tradeNo, out_trade_no: t.outTradeNo, buyer_logon_id: 'bu***@example.com', trade_status: t.status,
        total_amount: t.totalAmount, buyer_pay_amount: t.status === 'TRADE_SUCCESS' ? t.totalAmount : '0.00', send_pay_date: now(),
      });
    }
    return signedAnswer(method, { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-method', sub_msg: 'unknown method' });
  }

  async function pay(outTradeNo: string, p: PayOptions = {}): Promise<Delivery[]> {
    const t = trades.get(outTradeNo);
    if (!t) throw new Error(`fake alipay: no trade ${outTradeNo}`);
    t.status = 'TRADE_SUCCESS';
    const f: Record<string, string> = {
      gmt_create: now(), charset: 'utf-8', gmt_payment: now(), notify_time: now(), subject: t.subject, buyer_id: '2088102177846880',
      invoice_amount: t.totalAmount, version: '1.0', notify_id: randomUUID().replaceAll('-', ''),
      fund_bill_list: JSON.stringify([{ amount: t.totalAmount, fundChannel: 'ALIPAYACCOUNT' }]), notify_type: 'trade_status_sync',
      out_trade_no: t.outTradeNo, total_amount: t.totalAmount, trade_status: 'TRADE_SUCCESS', trade_no: t.tradeNo, auth_app_id: opts.appId,
      receipt_amount: t.totalAmount, point_amount: '0.00', buyer_pay_amount: t.totalAmount, app_id: opts.appId, seller_id: opts.sellerId ?? '2088102177649450',
    };
    if (p.twist === 'tampered-amount') f.total_amount = p.tamperedAmount ?? '0.01';
    if (p.twist === 'wrong-merchant') f.app_id = f.auth_app_id = `${opts.appId}9`;
    f.sign = rsaSign(content(f, ['sign', 'sign_type']));
    f.sign_type = 'RSA2';
    if (p.twist === 'bad-signature') f.total_amount = p.tamperedAmount ?? '0.01';
    const policy = { delaysMs: opts.retryDelaysMs ?? [50, 100, 200], isAck: exactAck('success') };
    return sendWithTwist(p, () => deliverNotify({ url: t.notifyUrl, method: 'POST', fields: f }, policy));
  }

  const server = await startFakeServer(handle, pay);
  return { url: server.url, gateway: `${server.url}/gateway.do`, trades, rejections, pay, close: server.close };
}
