import type { Money } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { formatPoints, formatUsd } from '../lib/money.ts';

/** A money value in USD with its points beside it (and on hover). */
export function MoneyText({ value, hidePoints }: { value: Money; hidePoints?: boolean }) {
  const { t, locale } = useI18n();
  const points = t('common.points', { n: formatPoints(value.quota, locale) });
  return (
    <span className="money" title={points}>
      <span className="money-usd">{formatUsd(value.usd)}</span>
      {!hidePoints && <span className="money-points">{points}</span>}
    </span>
  );
}
