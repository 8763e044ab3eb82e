// How each payment method is named to users: the names they know from their wallet apps.
import type { Schemas } from '../../api/client.ts';
import type { WalletKey } from '../../i18n/wallet.en.ts';

export type Method = Schemas['TopupOptions']['methods'][number];
export type MethodId = Method['method'];
export type PayChannel = Method['channels'][number];

/** One choice in the method list: a provider, and for aggregators the wallet app paid with. */
export interface MethodChoice {
  id: string;
  method: MethodId;
  channel?: PayChannel;
  currency: string;
  sandbox: boolean;
}

export const PROVIDER_NAME: Record<MethodId, WalletKey> = {
  alipay: 'wallet.method.alipay',
  lantu: 'wallet.method.lantu',
  epay: 'wallet.method.epay',
  stripe: 'wallet.method.stripe',
  transfer: 'wallet.method.transfer',
  sandbox: 'wallet.method.sandbox',
};

export const CHANNEL_NAME: Record<PayChannel, WalletKey> = { alipay: 'wallet.channel.alipay', wxpay: 'wallet.channel.wxpay' };

/** Every enabled method, one choice per wallet app where the provider offers several. */
export function methodChoices(methods: Method[]): MethodChoice[] {
  return methods.flatMap((m): MethodChoice[] =>
    m.channels.length === 0
      ? [{ id: m.method, method: m.method, currency: m.currency, sandbox: m.sandbox }]
      : m.channels.map((channel) => ({ id: `${m.method}:${channel}`, method: m.method, channel, currency: m.currency, sandbox: m.sandbox })),
  );
}
