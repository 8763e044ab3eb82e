import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import { useI18n } from '../../i18n/index.tsx';
import { CHANNEL_NAME, PROVIDER_NAME, type MethodChoice } from './methods.ts';

/** Tiers, limits, enabled methods, CNY price, invoice delay (all wallet sections share one fetch). */
export function useTopupOptions() {
  return useQuery({ queryKey: ['wallet', 'topup-options'], queryFn: () => unwrap(api.GET('/api/wallet/topup/options')), staleTime: 60_000 });
}

/** "WeChat Pay · Lantu Pay", "Alipay", "Bank transfer": a method as users know it. */
export function useChoiceLabel() {
  const { t } = useI18n();
  return (c: Pick<MethodChoice, 'method' | 'channel'>) => (c.channel ? `${t(CHANNEL_NAME[c.channel])} · ${t(PROVIDER_NAME[c.method])}` : t(PROVIDER_NAME[c.method]));
}
