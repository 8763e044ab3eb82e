import { Tag, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { NativeSelect } from '../components/NativeSelect.tsx';
import { PageHeader, Stat } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { formatDate } from '../lib/format.ts';
import { DailySpendChart, RankedBars } from './dashboard/charts.tsx';
import '../styles/pages.css';

const RANGES = [7, 30, 90] as const;

/** Balance and spend from the wallet; requests, tokens and the charts from GET /api/usage/summary. */
export default function Dashboard() {
  const { t, locale } = useI18n();
  const [days, setDays] = useState<number>(30);
  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => unwrap(api.GET('/api/wallet')) });
  const summary = useQuery({
    queryKey: ['usage-summary', days],
    queryFn: () => unwrap(api.GET('/api/usage/summary', { params: { query: { days } } })),
    placeholderData: keepPreviousData,
  });
  const w = wallet.data;
  const s = summary.data;
  const n = (v: number | undefined) => (v === undefined ? '…' : v.toLocaleString(locale));

  return (
    <section>
      <PageHeader
        title={t('dash.title')}
        actions={<NativeSelect label={t('p.dash.range')} value={days} options={RANGES.map((d) => ({ value: d, label: t('p.dash.lastDays', { n: d }) }))} onChange={(v) => setDays(v ?? 30)} />}
      />
      <ErrorBanner error={wallet.error ?? summary.error} />
      <div className="stats">
        <Stat label={t('dash.balance')} testId="dash-balance">{w ? <MoneyText value={w.balance} /> : '…'}</Stat>
        <Stat label={t('p.dash.today')} testId="dash-today">{w?.spend ? <MoneyText value={w.spend.today} /> : '…'}</Stat>
        <Stat label={t('p.dash.week')}>{w?.spend ? <MoneyText value={w.spend.last7Days} /> : '…'}</Stat>
        <Stat label={t('p.dash.month')}>{w?.spend ? <MoneyText value={w.spend.last30Days} /> : '…'}</Stat>
      </div>
      <div className="stats">
        <Stat label={t('p.dash.requestsIn', { n: days })} testId="dash-requests">{n(s?.totals.requests)}</Stat>
        <Stat label={t('p.dash.errorsIn', { n: days })}>{n(s?.totals.errors)}</Stat>
        <Stat label={t('p.dash.promptTokens')}>{n(s?.totals.promptTokens)}</Stat>
        <Stat label={t('p.dash.completionTokens')}>{n(s?.totals.completionTokens)}</Stat>
      </div>
      <div className="card">
        <Typography.Title heading={4}>{t('p.dash.byDay')}</Typography.Title>
        {s ? s.totals.requests === 0 ? <p className="muted">{t('p.dash.noUsage')}</p> : <DailySpendChart days={s.byDay} label={t('p.dash.byDay')} /> : <p className="muted">{t('common.loading')}</p>}
      </div>
      <div className="two-col">
        <div className="card">
          <Typography.Title heading={4}>{t('p.dash.byModel')}</Typography.Title>
          {s ? <RankedBars label={t('p.dash.byModel')} empty={t('p.dash.noUsage')} items={s.byModel.slice(0, 10).map((m) => ({ name: m.model, cost: m.cost, requests: m.requests }))} /> : <p className="muted">{t('common.loading')}</p>}
        </div>
        <div className="card">
          <Typography.Title heading={4}>{t('p.dash.byKey')}</Typography.Title>
          {s ? (
            <RankedBars label={t('p.dash.byKey')} empty={t('p.dash.noUsage')} items={s.byKey.slice(0, 10).map((k) => ({ name: k.keyId === null ? `${k.keyName} (${t('p.dash.deletedKey')})` : k.keyName, cost: k.cost, requests: k.requests }))} />
          ) : (
            <p className="muted">{t('common.loading')}</p>
          )}
        </div>
      </div>
      <div className="card">
        <Typography.Title heading={4}>{t('dash.recentErrors')}</Typography.Title>
        {!s ? (
          <p className="muted">{t('common.loading')}</p>
        ) : s.recentErrors.length === 0 ? (
          <p className="muted">{t('p.dash.noErrors', { n: days })}</p>
        ) : (
          <ul className="error-list" data-testid="dash-errors">
            {s.recentErrors.map((e) => (
              <li key={e.id}>
                <Tag color="red">{e.status}</Tag> <span className="muted">{formatDate(e.createdAt, locale)}</span> · {e.model} · {e.keyName}
                {e.error && <div className="error-text">{e.error}</div>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="card">
        <Typography.Title heading={4}>{t('dash.quickStart')}</Typography.Title>
        <Typography.Paragraph>{t('dash.quickStartText', { url: `${window.location.origin}/v1` })}</Typography.Paragraph>
      </div>
    </section>
  );
}
