// Every notification text, in one place (English). Values carry the exact figures: money as the
// API's {quota, usd} objects, times as ISO strings.
import { money } from '../lib/money.ts';
import type { NotifyMessage } from './types.ts';

export type AlertEvent =
  | { type: 'balance_low'; balance: number; threshold: number }
  | { type: 'key_limit_exhausted'; keyId: number; keyName: string; used: number; limit: number }
  | { type: 'key_expired'; keyId: number; keyName: string; expiresAt: number }
  | { type: 'test' };

export const PRODUCT_NAME = 'MoleAPI';

/** "$12.50", "$0.000002", "-$1.04": at least 2 decimals, no trailing zeros past them. */
export function usdText(quota: number): string {
  const { usd } = money(quota);
  const neg = usd.startsWith('-');
  const [whole, frac = ''] = (neg ? usd.slice(1) : usd).split('.');
  const trimmed = frac.replace(/0+$/, '').padEnd(2, '0');
  return `${neg ? '-' : ''}$${whole}.${trimmed}`;
}

export function renderAlert(event: AlertEvent): NotifyMessage {
  switch (event.type) {
    case 'balance_low':
      return {
        type: event.type,
        title: `${PRODUCT_NAME}: balance below ${usdText(event.threshold)}`,
        content:
          `Your balance is ${usdText(event.balance)}, below your alert threshold of ${usdText(event.threshold)}. ` +
          `Top up to keep your API keys working. You will not be alerted again until the balance is back above the threshold.`,
        values: { balance: money(event.balance), threshold: money(event.threshold) },
      };
    case 'key_limit_exhausted':
      return {
        type: event.type,
        title: `${PRODUCT_NAME}: key "${event.keyName}" reached its limit`,
        content:
          `API key "${event.keyName}" has used ${usdText(event.used)} of its ${usdText(event.limit)} limit. ` +
          `Requests with it are refused until its limit is raised.`,
        values: { keyId: event.keyId, keyName: event.keyName, used: money(event.used), limit: money(event.limit) },
      };
    case 'key_expired': {
      const at = new Date(event.expiresAt).toISOString();
      return {
        type: event.type,
        title: `${PRODUCT_NAME}: key "${event.keyName}" expired`,
        content: `API key "${event.keyName}" expired at ${at}. Requests with it are refused; extend it or create a new key.`,
        values: { keyId: event.keyId, keyName: event.keyName, expiresAt: at },
      };
    }
    case 'test':
      return {
        type: 'test',
        title: `${PRODUCT_NAME}: test notification`,
        content: 'This is a test notification. Your alert settings work.',
        values: {},
      };
  }
}
