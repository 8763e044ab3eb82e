import { Typography } from '@douyinfe/semi-ui';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { PageHeader, Stat } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { formatDay } from '../lib/format.ts';
import { GettingStarted } from './wallet/GettingStarted.tsx';
import { WALLET_SECTIONS } from './wallet/sections.tsx';
import './wallet/wallet.css';

type Entry = Schemas['WalletHistoryItem'];

/** The trial-credit entry: the history filtered to that kind. */
async function trialEntry(): Promise<Entry | null> {
  const body = await unwrap(api.GET('/api/wallet/ledger', { params: { query: { kind: 'trial', page: 1, pageSize: 1 } } }));
  if (typeof body === 'string') throw new Error('The wallet history came back as text instead of JSON.');
  return body.items[0] ?? null;
}

/** "Lasts ~N days at your 7-day average", or why there is no figure. */
function Runway({ wallet }: { wallet: Schemas['Wallet'] }) {
  const { t, locale } = useI18n();
  if (wallet.runway === null) return <span className="runway-none">{t(wallet.spend ? 'wallet.runway.noSpend' : 'wallet.runway.unknown')}</span>;
  const days = wallet.runway.toLocaleString(locale, { maximumFractionDigits: 1 });
  return <span>{t('wallet.runway.days', { days })}</span>;
}

export default function Wallet() {
  const { t, locale } = useI18n();
  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => unwrap(api.GET('/api/wallet')) });
  const trial = useQuery({ queryKey: ['wallet', 'trial'], queryFn: trialEntry, staleTime: Infinity });
  const w = wallet.data;
  return (
    <section>
      <PageHeader title={t('wallet.title')} />
      <ErrorBanner error={wallet.error ?? trial.error} />
      <div className="stats">
        <Stat label={t('wallet.balance')} testId="wallet-balance">{w ? <MoneyText value={w.balance} /> : '…'}</Stat>
        <Stat label={t('wallet.available')}>{w ? <MoneyText value={w.available} /> : '…'}</Stat>
        <Stat label={t('wallet.used')} testId="wallet-used">{w ? <MoneyText value={w.used} /> : '…'}</Stat>
        <Stat label={t('wallet.requests')} testId="wallet-requests">{w ? w.requestCount.toLocaleString(locale) : '…'}</Stat>
      </div>
      {w && w.held.quota > 0 && (
        <Typography.Paragraph type="secondary">
          {t('wallet.held')}: <MoneyText value={w.held} />
        </Typography.Paragraph>
      )}
      <div className="wallet-strip">
        <div className="card strip-item" data-testid="wallet-runway">
          <div className="stat-label">{t('wallet.runway.title')}</div>
          <div className="strip-value">{w ? <Runway wallet={w} /> : '…'}</div>
          {w?.spend && (
            <div className="muted small">
              {t('wallet.runway.spend7')} <MoneyText value={w.spend.last7Days} /> · {t('wallet.runway.today')} <MoneyText value={w.spend.today} hidePoints />
            </div>
          )}
        </div>
        <div className="card strip-item" data-testid="wallet-trial">
          <div className="stat-label">{t('wallet.trial')}</div>
          {trial.isPending ? (
            '…'
          ) : trial.data ? (
            <div className="strip-value">
              <MoneyText value={trial.data.amount} /> <span className="muted small">· {t('wallet.trialGiven', { date: formatDay(trial.data.createdAt, locale) })}</span>
            </div>
          ) : (
            <div className="muted">{t('wallet.noTrial')}</div>
          )}
        </div>
        <div className="card strip-item">
          <div className="stat-label">{t('wallet.toppedUp')}</div>
          <div className="strip-value">{w ? <MoneyText value={w.totalToppedUp} /> : '…'}</div>
          {w && w.pendingOrders > 0 && <div className="muted small">{t('wallet.pendingOrders', { n: w.pendingOrders })}</div>}
        </div>
      </div>
      <div className="wallet-grid">
        <div className="wallet-main">
          {WALLET_SECTIONS.main.map(({ id, Component }) => (
            <Component key={id} />
          ))}
        </div>
        <div className="wallet-side">
          <GettingStarted wallet={w} />
          {WALLET_SECTIONS.side.map(({ id, Component }) => (
            <Component key={id} />
          ))}
        </div>
      </div>
      {WALLET_SECTIONS.wide.map(({ id, Component }) => (
        <Component key={id} />
      ))}
    </section>
  );
}
