// One entry point: a provider id and its stored settings → a PaymentProvider.
import type { PaymentProvider, ProviderId } from './types.ts';
import { PaymentProviderError } from './types.ts';
import { createEpayProvider, type EpayConfig } from './epay.ts';
import { createLantuProvider, type LantuConfig } from './lantu.ts';
import { createAlipayProvider, type AlipayConfig } from './alipay.ts';
import { createStripeProvider, type StripeConfig } from './stripe.ts';
import { createTransferProvider, type TransferConfig } from './transfer.ts';
import { createSandboxProvider } from './sandbox.ts';

export * from './types.ts';
export { checkAgainstOrder } from './common.ts';

export interface ProviderConfigs {
  epay: EpayConfig;
  lantu: LantuConfig;
  alipay: AlipayConfig;
  stripe: StripeConfig;
  transfer: TransferConfig;
  sandbox: Record<string, never>;
}

export const PROVIDER_IDS: readonly ProviderId[] = ['alipay', 'lantu', 'epay', 'stripe', 'transfer', 'sandbox'];

/** Settings that are secrets: write-only in the admin API, sealed at rest, never logged. */
export const SECRET_SETTINGS: { [K in ProviderId]: readonly string[] } = {
  epay: ['key'],
  lantu: ['key'],
  alipay: ['privateKey'],
  stripe: ['secretKey', 'webhookSecret'],
  transfer: [],
  sandbox: [],
};

export function createProvider<K extends ProviderId>(id: K, config: ProviderConfigs[K]): PaymentProvider {
  switch (id) {
    case 'epay':
      return createEpayProvider(config as EpayConfig);
    case 'lantu':
      return createLantuProvider(config as LantuConfig);
    case 'alipay':
      return createAlipayProvider(config as AlipayConfig);
    case 'stripe':
      return createStripeProvider(config as StripeConfig);
    case 'transfer':
      return createTransferProvider(config as TransferConfig);
    case 'sandbox':
      return createSandboxProvider();
    default:
      throw new PaymentProviderError(id, 'unknown provider', 'unsupported');
  }
}
