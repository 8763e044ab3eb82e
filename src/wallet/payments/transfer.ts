// Corporate bank transfer: no provider and no callbacks. The user gets the account and a reference
// code to write on the transfer; an admin confirms receipt, which the wallet records like a payment.
import { createHash } from 'node:crypto';
import type { PaymentContext, PaymentCreated, PaymentOrder, PaymentProvider } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { rejected, requireConfig, TEXT_REPLY } from './common.ts';
import { minorToDecimal } from './money.ts';

export interface TransferConfig {
  bankName: string;
  accountName: string;
  accountNo: string;
}

// Crockford base32: no I, L, O or U, so a code read over the phone or typed by a bank clerk survives.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The reference for an order: derived from the order number (nothing extra to store), 40 bits, shown
 * as `MOLE-XXXX-XXXX`. The admin matches a transfer by reference and amount together.
 */
export function transferReference(orderNo: string): string {
  const digest = createHash('sha256').update(`transfer-reference:${orderNo}`).digest();
  let bits = 0n;
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(digest[i]!);
  let code = '';
  for (let i = 0; i < 8; i++) code = ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)] + code;
  return `MOLE-${code.slice(0, 4)}-${code.slice(4)}`;
}

export function createTransferProvider(config: TransferConfig): PaymentProvider {
  requireConfig('transfer', { bankName: config.bankName, accountName: config.accountName, accountNo: config.accountNo });
  return {
    id: 'transfer',
    sandbox: false,
    ack: TEXT_REPLY(200, 'ok'),
    nack: TEXT_REPLY(404, 'no callbacks for bank transfers'),
    async createPayment(order: PaymentOrder, _ctx: PaymentContext): Promise<PaymentCreated> {
      return {
        pay: {
          transfer: {
            bankName: config.bankName,
            accountName: config.accountName,
            accountNo: config.accountNo,
            reference: transferReference(order.orderNo),
            amount: minorToDecimal(order.amount.minor, 2),
            currency: order.amount.currency,
          },
        },
      };
    },
    async verifyNotify(raw) {
      return rejected('bank transfers have no callbacks; an admin confirms them', { method: raw.method });
    },
    async queryOrder(ref) {
      throw new PaymentProviderError('transfer', `order ${ref.orderNo}: bank transfers are confirmed by an admin, not queried`, 'unsupported');
    },
  };
}
