// The merchant side of a callback, in miniature: a real HTTP server that hands each notify, raw, to
// a provider's verifyNotify, checks it against the stored order, "credits" a paid order once, and
// answers the provider's acknowledgement (or its refusal). The wallet's notify route will do the same
// with a database; this lets the provider tests run without it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotifyVerdict, PaymentOrder, PaymentProvider } from '../../../src/wallet/payments/index.ts';
import { checkAgainstOrder } from '../../../src/wallet/payments/index.ts';
import { readBody } from './shared.ts';

export interface ReceivedNotify {
  method: string;
  verdict: NotifyVerdict;
  /** null = trusted; otherwise why it was refused. */
  refusal: string | null;
  credited: boolean;
  replied: number;
}

export interface NotifyReceiver {
  /** The notify URL to give the provider. */
  url: string;
  received: ReceivedNotify[];
  /** Orders the test "stored"; a trusted paid notify for one credits it once. */
  orders: Map<string, PaymentOrder>;
  credited: Map<string, number>;
  /** Answer this many notifies with a wrong acknowledgement first (to see the provider retry). */
  wrongAcks: number;
  close(): Promise<void>;
}

export async function startNotifyReceiver(provider: PaymentProvider): Promise<NotifyReceiver> {
  const state = {
    received: [] as ReceivedNotify[],
    orders: new Map<string, PaymentOrder>(),
    credited: new Map<string, number>(),
    wrongAcks: 0,
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const body = await readBody(req);
    const verdict = await provider.verifyNotify({ method: req.method ?? 'GET', query: url.search.slice(1), body, headers: req.headers });
    const order = verdict.orderNo ? state.orders.get(verdict.orderNo) : undefined;
    // A trusted event that pays nothing (e.g. a Stripe event we ignore) is acknowledged, not credited.
    const ignorable = verdict.ok && !verdict.orderNo;
    const refusal = ignorable ? null : order ? checkAgainstOrder(verdict, order) : verdict.ok ? 'unknown order' : (verdict.reason ?? 'not verified');
    let credited = false;
    if (refusal === null && order && verdict.paid) {
      const times = state.credited.get(order.orderNo) ?? 0;
      credited = times === 0;
      state.credited.set(order.orderNo, times + 1);
    }
    let reply = refusal === null ? provider.ack : provider.nack;
    if (refusal === null && state.wrongAcks > 0) {
      state.wrongAcks -= 1;
      // Text-ack providers need the exact word; Stripe only needs a 2xx.
      reply = provider.id === 'stripe' ? { status: 503, contentType: 'text/plain', body: 'busy' } : { status: 200, contentType: 'text/plain', body: 'received' };
    }
    state.received.push({ method: req.method ?? 'GET', verdict, refusal, credited, replied: reply.status });
    res.writeHead(reply.status, { 'content-type': reply.contentType });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/api/payment/notify/${provider.id}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as NotifyReceiver;
}
