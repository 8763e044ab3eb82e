// The user's invite link (copy button) and code, how many registered with it, and rewards credited.
import { Button, Toast, Typography } from '@douyinfe/semi-ui';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { Stat } from '../../components/PageHeader.tsx';
import { useI18n } from '../../i18n/index.tsx';

export function Referral() {
  const { t, locale } = useI18n();
  const referral = useQuery({ queryKey: ['wallet', 'referral'], queryFn: () => unwrap(api.GET('/api/wallet/referral')) });
  const r = referral.data;
  const copy = async () => {
    if (!r) return;
    try {
      await navigator.clipboard.writeText(r.link);
      Toast.success(t('common.copied'));
    } catch {
      Toast.error(t('wallet.referral.copyFailed'));
    }
  };
  return (
    <div className="card" id="referral" data-testid="wallet-referral">
      <Typography.Title heading={4}>{t('wallet.referral.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('wallet.referral.explain')}</Typography.Paragraph>
      <ErrorBanner error={referral.error} />
      {r ? (
        <>
          <div className="field">
            <label htmlFor="referral-link" className="field-label">
              {t('wallet.referral.link')}
            </label>
            <div className="copy-row">
              <input id="referral-link" className="text-input mono" readOnly value={r.link} onFocus={(e) => e.target.select()} />
              <Button onClick={copy}>{t('wallet.referral.copy')}</Button>
            </div>
          </div>
          <div className="stats three">
            <Stat label={t('wallet.referral.code')}>
              <code className="big-code">{r.code}</code>
            </Stat>
            <Stat label={t('wallet.referral.invited')} testId="referral-invited">
              {r.invitedCount.toLocaleString(locale)}
            </Stat>
            <Stat label={t('wallet.referral.rewards')} testId="referral-rewards">
              <MoneyText value={r.rewards} />
            </Stat>
          </div>
        </>
      ) : (
        referral.isPending && <Typography.Text type="secondary">{t('common.loading')}</Typography.Text>
      )}
    </div>
  );
}
