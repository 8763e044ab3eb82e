import { Tag, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { PageHeader, Stat } from '../components/PageHeader.tsx';
import type { MessageKey } from '../i18n/en.ts';
import { useI18n } from '../i18n/index.tsx';
import { formatDate, formatDay } from '../lib/format.ts';
import { WALLET_SECTIONS } from './wallet/sections.tsx';

type Entry = Schemas['WalletHistoryItem'];
const PAGE_SIZE = 20;
const KIND_COLOR: Record<Entry['kind'], 'green' | 'blue' | 'grey' | 'orange' | 'purple' | 'cyan'> = {
  trial: 'green',
  adjustment: 'blue',
  usage: 'grey',
  topup: 'orange',
  redemption: 'purple',
  referral: 'cyan',
};

/** One page of the wallet history as JSON (the same route also answers CSV, with ?format=csv). */
async function historyPage(page: number, pageSize: number): Promise<{ items: Entry[]; total: number }> {
  const body = await unwrap(api.GET('/api/wallet/ledger', { params: { query: { page, pageSize } } }));
  if (typeof body === 'string') throw new Error('The wallet history came back as text instead of JSON.');
  return body;
}

/** The trial credit is the account's oldest ledger entry: the last row of the newest-first list. */
async function trialEntry(): Promise<Entry | null> {
  const first = await historyPage(1, 1);
  if (first.total === 0) return null;
  const oldest = await historyPage(first.total, 1);
  return oldest.items.find((e) => e.kind === 'trial') ?? null;
}

export default function Wallet() {
  const { t, locale } = useI18n();
  const [page, setPage] = useState(1);
  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => unwrap(api.GET('/api/wallet')) });
  const trial = useQuery({ queryKey: ['wallet', 'trial'], queryFn: trialEntry, staleTime: Infinity });
  const ledger = useQuery({
    queryKey: ['wallet', 'ledger', page],
    queryFn: () => historyPage(page, PAGE_SIZE),
    placeholderData: keepPreviousData,
  });

  const columns = [
    { title: t('common.time'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    { title: t('wallet.kind'), dataIndex: 'kind', render: (v: Entry['kind']) => <Tag color={KIND_COLOR[v]}>{t(`kind.${v}` as MessageKey)}</Tag> },
    { title: t('wallet.amount'), dataIndex: 'amount', render: (v: Entry['amount']) => <MoneyText value={v} /> },
    { title: t('wallet.balanceAfter'), dataIndex: 'balanceAfter', render: (v: Entry['balanceAfter']) => (v ? <MoneyText value={v} /> : '—') },
    { title: t('wallet.note'), dataIndex: 'note', render: (v: string | null, e: Entry) => v ?? <code className="muted">{e.reference}</code> },
  ];

  const w = wallet.data;
  return (
    <section>
      <PageHeader title={t('wallet.title')} />
      <ErrorBanner error={wallet.error ?? ledger.error ?? trial.error} />
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
      <div className="card" data-testid="wallet-trial">
        <Typography.Title heading={4}>{t('wallet.trial')}</Typography.Title>
        {trial.isPending ? (
          '…'
        ) : trial.data ? (
          <Typography.Paragraph>
            <MoneyText value={trial.data.amount} /> · {t('wallet.trialGiven', { date: formatDay(trial.data.createdAt, locale) })}
          </Typography.Paragraph>
        ) : (
          <Typography.Paragraph type="secondary">{t('wallet.noTrial')}</Typography.Paragraph>
        )}
      </div>
      {WALLET_SECTIONS.map(({ id, Component }) => (
        <Component key={id} />
      ))}
      <div className="card">
        <Typography.Title heading={4}>{t('wallet.ledger')}</Typography.Title>
        <DataTable label={t('wallet.ledger')} rowKey="reference" columns={columns} data={ledger.data?.items ?? []} loading={ledger.isFetching} minWidth={760} paging={{ page, pageSize: PAGE_SIZE, total: ledger.data?.total ?? 0, onPageChange: setPage }} />
      </div>
    </section>
  );
}
