// The one interface every payment provider implements. The wallet creates an order, asks the provider
// how the user pays (`createPayment`), trusts a callback only through `verifyNotify` plus
// `checkAgainstOrder`, and can re-check an order with the provider (`queryOrder`).

export type ProviderId = 'epay' | 'lantu' | 'alipay' | 'stripe' | 'transfer' | 'sandbox';

/** Which wallet app the user pays with, for providers that offer several. */
export type PayChannel = 'alipay' | 'wxpay';

/** An amount in the payment currency, in integer minor units (CNY fen, USD cents). */
export interface PayAmount {
  currency: string; // ISO 4217, upper case
  minor: number;
}

/** What the wallet hands a provider: everything needed to start a payment for one stored order. */
export interface PaymentOrder {
  orderNo: string;
  subject: string;
  amount: PayAmount;
  channel?: PayChannel;
}

export interface PaymentContext {
  /** `{publicBaseUrl}/api/payment/notify/{provider}` */
  notifyUrl: string;
  /** Where the browser lands after paying; it only shows status and never credits. */
  returnUrl: string;
  device?: 'pc' | 'mobile';
  clientIp?: string;
}

export interface PayForm {
  action: string;
  method: 'POST' | 'GET';
  fields: Record<string, string>;
}

export interface TransferInstructions {
  bankName: string;
  accountName: string;
  accountNo: string;
  /** The code the payer puts on the transfer so an admin can match it. */
  reference: string;
  amount: string;
  currency: string;
}

/** How the user pays: open a URL, scan a QR code, post a form, or make a bank transfer. */
export interface PayInstruction {
  url?: string;
  qrCode?: string;
  form?: PayForm;
  transfer?: TransferInstructions;
}

export interface PaymentCreated {
  pay: PayInstruction;
  /** The provider's id for this payment when it gives one at creation (Stripe session id, EPay mapi trade_no). */
  tradeNo?: string;
  /** Sandbox only: the payment is complete already; the wallet credits it at once. */
  completed?: { tradeNo: string; amount: PayAmount };
}

/** A callback exactly as it arrived. `body` is the raw text (Stripe verifies the exact bytes). */
export interface RawNotify {
  method: string;
  /** The query string without '?' ('' when none). */
  query: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface NotifyVerdict {
  /** The signature verified, the merchant is ours and the fields are well formed. */
  ok: boolean;
  /** The callback says the order is paid (only meaningful when ok). */
  paid: boolean;
  merchantOk: boolean;
  orderNo: string | null;
  tradeNo: string | null;
  amount: PayAmount | null;
  /** Why it is not trusted, or why it does not credit (e.g. an event kind we ignore). */
  reason: string | null;
  /** The received fields for the audit table (never contains our secrets). */
  fields: Record<string, unknown>;
}

export type ProviderOrderStatus = 'paid' | 'pending' | 'closed' | 'not_found';

export interface OrderQueryResult {
  status: ProviderOrderStatus;
  orderNo: string;
  tradeNo: string | null;
  amount: PayAmount | null;
  /** Provider's raw answer for the audit (secrets removed). */
  raw: unknown;
}

/** What to answer a callback: the provider's acknowledgement, or a refusal that makes it retry. */
export interface NotifyReply {
  status: number;
  contentType: string;
  body: string;
}

export interface PaymentProvider {
  readonly id: ProviderId;
  /** Labelled SANDBOX in the console; never on unless the admin enables it. */
  readonly sandbox: boolean;
  /** Answer after the credit committed (or for a replay); anything else makes the provider retry. */
  readonly ack: NotifyReply;
  /** Answer to an untrusted callback. */
  readonly nack: NotifyReply;
  createPayment(order: PaymentOrder, ctx: PaymentContext): Promise<PaymentCreated>;
  verifyNotify(raw: RawNotify): Promise<NotifyVerdict>;
  /** `tradeNo` helps providers that look orders up by their own id (Stripe). */
  queryOrder(ref: { orderNo: string; tradeNo?: string | null }): Promise<OrderQueryResult>;
}

/** Raised when a provider refuses or cannot be reached; `message` never contains a secret. */
export class PaymentProviderError extends Error {
  constructor(
    readonly provider: ProviderId,
    message: string,
    readonly code: 'provider_refused' | 'provider_unreachable' | 'bad_provider_answer' | 'unsupported' = 'provider_refused',
  ) {
    super(`${provider}: ${message}`);
    this.name = 'PaymentProviderError';
  }
}
