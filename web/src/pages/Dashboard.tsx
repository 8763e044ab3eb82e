import { Tag, Typography } from '@douyinfe/semi-ui';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { PageHeader, Stat } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { formatDate } from '../lib/format.ts';

/** What the API has today: the wallet's totals, the keys, and the latest log rows. */
export default function Dashboard() {
  const { t, locale } = useI18n();
  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => unwrap(api.GET('/api/wallet')) });
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => unwrap(api.GET('/api/keys')) });
  const logs = useQuery({ queryKey: ['logs', 'recent'], queryFn: () => unwrap(api.GET('/api/logs', { params: { query: { page: 1, pageSize: 50 } } })) });
  const errors = (logs.data?.items ?? []).filter((r) => r.status >= 400).slice(0, 5);

  const columns = [
    { title: t('common.time'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    { title: t('common.model'), dataIndex: 'model' },
    { title: t('logs.key'), dataIndex: 'keyName' },
    { title: t('logs.cost'), dataIndex: 'cost', render: (v: Schemas['Money']) => <MoneyText value={v} /> },
    { title: t('common.status'), dataIndex: 'status', render: (v: number) => <Tag color={v < 400 ? 'green' : 'red'}>{v}</Tag> },
  ];

  return (
    <section>
      <PageHeader title={t('dash.title')} />
      <ErrorBanner error={wallet.error ?? keys.error ?? logs.error} />
      <div className="stats">
        <Stat label={t('dash.balance')} testId="dash-balance">{wallet.data ? <MoneyText value={wallet.data.balance} /> : '…'}</Stat>
        <Stat label={t('dash.spent')}>{wallet.data ? <MoneyText value={wallet.data.used} /> : '…'}</Stat>
        <Stat label={t('dash.requests')}>{wallet.data ? wallet.data.requestCount.toLocaleString(locale) : '…'}</Stat>
        <Stat label={t('dash.keys')}>{keys.data ? keys.data.items.filter((k) => k.enabled).length : '…'}</Stat>
      </div>
      <div className="card">
        <Typography.Title heading={4}>{t('dash.quickStart')}</Typography.Title>
        <Typography.Paragraph>{t('dash.quickStartText', { url: `${window.location.origin}/v1` })}</Typography.Paragraph>
      </div>
      <div className="card">
        <Typography.Title heading={4}>{t('dash.recent')}</Typography.Title>
        <DataTable label={t('dash.recent')} rowKey="id" columns={columns} data={(logs.data?.items ?? []).slice(0, 8)} loading={logs.isPending} minWidth={640} />
      </div>
      <div className="card">
        <Typography.Title heading={4}>{t('dash.recentErrors')}</Typography.Title>
        {errors.length === 0 ? (
          <Typography.Paragraph type="secondary">{t('dash.noErrors')}</Typography.Paragraph>
        ) : (
          <ul className="plain-list">
            {errors.map((e) => (
              <li key={e.id}>
                {formatDate(e.createdAt, locale)} · {e.model} · {e.status} · {e.error}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
