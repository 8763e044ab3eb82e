// A fake Stripe API for Checkout: checks the secret key (Bearer), creates sessions from the SDK's
// form-encoded body (idempotency keys honoured), retrieves them; pay() marks the session paid and
// POSTs a `checkout.session.completed` event signed like Stripe (Stripe-Signature: t=…,v1=HMAC),
// re-sending until it gets a 2xx.
import { createHmac, randomBytes } from 'node:crypto';
import {
  deliverNotify, json, sendWithTwist, startFakeServer, type Delivery, type ParsedRequest, type PayOptions, type Reply,
} from './shared.ts';

export interface FakeStripeOptions {
  secretKey: string;
  webhookSecret: string;
  /** Where events go (the merchant's webhook endpoint). */
  webhookUrl?: string;
  retryDelaysMs?: number[];
}

export interface FakeStripeSession {
  id: string;
  object: 'checkout.session';
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  mode: string;
  payment_status: 'unpaid' | 'paid';
  status: 'open' | 'complete' | 'expired';
  success_url: string;
  cancel_url: string | null;
  url: string | null;
  livemode: false;
  created: number;
  payment_intent: string | null;
}

export interface StripePayOptions extends PayOptions {
  /** Send another event type / payment status instead of a paid completion. */
  eventType?: string;
  paymentStatus?: 'paid' | 'unpaid';
  /** Sign with this timestamp (unix seconds), e.g. an old one to test the replay window. */
  timestamp?: number;
}

export interface FakeStripe {
  url: string;
  sessions: Map<string, FakeStripeSession>;
  rejections: { path: string; reason: string }[];
  webhookUrl: string;
  pay(sessionIdOrOrderNo: string, opts?: StripePayOptions): Promise<Delivery[]>;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

function stripeError(status: number, message: string, extra: Record<string, unknown> = {}): Reply {
  return json({ error: { type: 'invalid_request_error', message, ...extra } }, status);
}

export function stripeSignatureHeader(payload: string, secret: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')}`;
}

export async function startFakeStripe(opts: FakeStripeOptions): Promise<FakeStripe> {
  const sessions = new Map<string, FakeStripeSession>();
  const byIdempotencyKey = new Map<string, string>();
  const rejections: { path: string; reason: string }[] = [];
  let baseUrl = '';
  const state = { webhookUrl: opts.webhookUrl ?? '' };

  function handle(req: ParsedRequest): Reply {
    if (req.headers.authorization !== `Bearer ${opts.secretKey}`) {
      rejections.push({ path: req.path, reason: 'bad api key' });
      return stripeError(401, 'Invalid API Key provided: sk_test_****');
    }
    if (req.method === 'POST' && req.path === '/v1/checkout/sessions') {
      const idem = req.headers['idempotency-key'];
      if (typeof idem === 'string' && byIdempotencyKey.has(idem)) return json(sessions.get(byIdempotencyKey.get(idem)!));
      const f = req.fields;
      const unit = Number(f['line_items[0][price_data][unit_amount]']);
      const qty = Number(f['line_items[0][quantity]'] ?? '1');
      const currency = f['line_items[0][price_data][currency]'];
      if (f.mode !== 'payment') return stripeError(400, 'mode must be payment', { param: 'mode' });
      if (!Number.isSafeInteger(unit) || unit < 1 || !Number.isSafeInteger(qty)) return stripeError(400, 'Invalid integer', { param: 'line_items[0][price_data][unit_amount]' });
      if (!currency || !/^[a-z]{3}$/.test(currency)) return stripeError(400, 'Invalid currency', { param: 'line_items[0][price_data][currency]' });
      if (!f.success_url) return stripeError(400, 'Missing required param: success_url.', { param: 'success_url' });
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(f)) {
        const m = /^metadata\[(.+)\]$/.exec(k);
        if (m) metadata[m[1]!] = v;
      }
      const s: FakeStripeSession = {
        id: id('cs_test'), object: 'checkout.session', amount_total: unit * qty, currency, client_reference_id: f.client_reference_id ?? null, metadata,
        mode: 'payment', payment_status: 'unpaid', status: 'open', success_url: f.success_url, cancel_url: f.cancel_url ?? null, url: null,
        livemode: false, created: Math.floor(Date.now() / 1000), payment_intent: null,
      };
      s.url = `${baseUrl}/c/pay/${s.id}`;
      sessions.set(s.id, s);
      if (typeof idem === 'string') byIdempotencyKey.set(idem, s.id);
      return json(s);
    }
    const m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && m) {
      const s = sessions.get(m[1]!);
      return s ? json(s) : stripeError(404, `No such checkout.session: '${m[1]}'`, { code: 'resource_missing' });
    }
    return stripeError(404, `Unrecognized request URL (${req.method}: ${req.path}).`);
  }

  async function pay(ref: string, p: StripePayOptions = {}): Promise<Delivery[]> {
    const s = sessions.get(ref) ?? [...sessions.values()].find((x) => x.client_reference_id === ref);
    if (!s) throw new Error(`fake stripe: no session ${ref}`);
    const paid = (p.paymentStatus ?? 'paid') === 'paid';
    if (paid) Object.assign(s, { payment_status: 'paid', status: 'complete', payment_intent: s.payment_intent ?? id('pi') });
    const object = { ...s, payment_status: p.paymentStatus ?? s.payment_status };
    if (p.twist === 'tampered-amount') object.amount_total = Number(p.tamperedAmount ?? '1');
    const event = {
      id: id('evt'), object: 'event', api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1,
      request: { id: null, idempotency_key: null }, type: p.eventType ?? 'checkout.session.completed', data: { object },
    };
    let body = JSON.stringify(event);
    // Another account's endpoint has another secret: to us that is a bad signature.
    const secret = p.twist === 'wrong-merchant' ? 'whsec_other_account' : opts.webhookSecret;
    const header = stripeSignatureHeader(body, secret, p.timestamp);
    if (p.twist === 'bad-signature') body = body.replace(`"amount_total":${s.amount_total}`, '"amount_total":1');
    const policy = { delaysMs: opts.retryDelaysMs ?? [50, 100, 200], isAck: (status: number) => status >= 200 && status < 300 };
    return sendWithTwist(p, () =>
      deliverNotify({ url: state.webhookUrl, method: 'POST', body, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header } }, policy),
    );
  }

  const server = await startFakeServer(handle, pay);
  baseUrl = server.url;
  return Object.assign(state, { url: server.url, sessions, rejections, pay, close: server.close }) as FakeStripe;
}
