// Guidance for newcomers: the four first steps (each ticked once the wallet shows it done) and
// three habits for production use.
import { Typography } from '@douyinfe/semi-ui';
import { Link } from 'react-router';
import type { Schemas } from '../../api/client.ts';
import { useI18n } from '../../i18n/index.tsx';
import type { WalletKey } from '../../i18n/wallet.en.ts';

export function GettingStarted({ wallet }: { wallet: Schemas['Wallet'] | undefined }) {
  const { t } = useI18n();
  const steps: { key: WalletKey; done: boolean }[] = [
    { key: 'wallet.guide.step1', done: (wallet?.trialCredit.quota ?? 0) > 0 },
    { key: 'wallet.guide.step2', done: (wallet?.totalToppedUp.quota ?? 0) > 0 },
    { key: 'wallet.guide.step3', done: (wallet?.requestCount ?? 0) > 0 },
    { key: 'wallet.guide.step4', done: false },
  ];
  return (
    <div className="card guide" id="getting-started" data-testid="wallet-guide">
      <Typography.Title heading={4}>{t('wallet.guide.title')}</Typography.Title>
      <div className="guide-grid">
        <ol className="guide-steps">
          {steps.map((s) => (
            <li key={s.key} className={s.done ? 'done' : undefined}>
              <span className="guide-mark" aria-hidden="true">
                {s.done ? '✓' : ''}
              </span>
              <span>
                {t(s.key)}
                {s.done && <span className="visually-hidden"> ({t('wallet.guide.done')})</span>}
              </span>
            </li>
          ))}
        </ol>
        <ul className="guide-tips">
          <li>{t('wallet.guide.buffer')}</li>
          <li>
            {t('wallet.guide.keys')} <Link to="/keys">{t('wallet.guide.keysLink')}</Link>
          </li>
          <li>
            {t('wallet.guide.alerts')} <Link to="/settings">{t('wallet.guide.alertsLink')}</Link>
          </li>
        </ul>
      </div>
    </div>
  );
}
