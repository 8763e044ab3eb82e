// Sandbox: completes every order at once so a local trial works without a merchant account. Off by
// default; the console labels it SANDBOX. It has no callbacks: the wallet credits from `completed`.
import type { PaymentContext, PaymentCreated, PaymentOrder, PaymentProvider } from './types.ts';
import { rejected, TEXT_REPLY } from './common.ts';

export function createSandboxProvider(): PaymentProvider {
  return {
    id: 'sandbox',
    sandbox: true,
    ack: TEXT_REPLY(200, 'ok'),
    nack: TEXT_REPLY(404, 'the sandbox sends no callbacks'),
    async createPayment(order: PaymentOrder, ctx: PaymentContext): Promise<PaymentCreated> {
      const tradeNo = `SANDBOX-${order.orderNo}`;
      return { pay: { url: ctx.returnUrl }, tradeNo, completed: { tradeNo, amount: { ...order.amount } } };
    },
    async verifyNotify(raw) {
      // Anyone could send a "sandbox" callback, so none is ever trusted.
      return rejected('the sandbox sends no callbacks', { method: raw.method });
    },
    async queryOrder(ref) {
      return { status: 'not_found', orderNo: ref.orderNo, tradeNo: null, amount: null, raw: { sandbox: true } };
    },
  };
}
