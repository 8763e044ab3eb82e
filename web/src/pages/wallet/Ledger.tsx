// The wallet history: every ledger entry and usage as one line per day, filtered by kind and time
// on the server (paginated there too), with the same filter exported as CSV by the server.
import { Tag, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { NativeSelect } from '../../components/NativeSelect.tsx';
import type { MessageKey } from '../../i18n/en.ts';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate, formatDay } from '../../lib/format.ts';
import { historyNote } from './notes.ts';

type Entry = Schemas['WalletHistoryItem'];
type Kind = Entry['kind'];
const PAGE_SIZE = 20;
const KINDS: Kind[] = ['topup', 'usage', 'redemption', 'referral', 'trial', 'adjustment'];
const KIND_COLOR: Record<Kind, 'green' | 'blue' | 'grey' | 'orange' | 'purple' | 'cyan'> = {
  trial: 'green',
  adjustment: 'blue',
  usage: 'grey',
  topup: 'orange',
  redemption: 'purple',
  referral: 'cyan',
};

/** A date input's day as the start of that day in the user's time zone (ISO), or undefined. */
const dayStart = (day: string) => (day ? new Date(`${day}T00:00:00`).toISOString() : undefined);
const dayAfter = (day: string) => (day ? new Date(new Date(`${day}T00:00:00`).getTime() + 86_400_000).toISOString() : undefined);

export function Ledger() {
  const { t, locale } = useI18n();
  const [page, setPage] = useState(1);
  const [kind, setKind] = useState<Kind | undefined>();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  // "to" is the last day shown, inclusive: the server's bound is exclusive, so it is the next midnight.
  const filter = { kind, from: dayStart(from), to: dayAfter(to) };
  const ledger = useQuery({
    queryKey: ['wallet', 'ledger', page, filter],
    queryFn: async () => {
      const body = await unwrap(api.GET('/api/wallet/ledger', { params: { query: { page, pageSize: PAGE_SIZE, ...filter } } }));
      if (typeof body === 'string') throw new Error('The wallet history came back as text instead of JSON.');
      return body;
    },
    placeholderData: keepPreviousData,
  });
  const csv = new URLSearchParams({ format: 'csv' });
  for (const [k, v] of Object.entries(filter)) if (v) csv.set(k, v);
  const change = (fn: () => void) => {
    fn();
    setPage(1);
  };

  const columns = [
    { title: t('common.time'), dataIndex: 'createdAt', render: (v: string, e: Entry) => (e.day ? formatDay(`${e.day}T12:00:00Z`, locale) : formatDate(v, locale)) },
    { title: t('wallet.kind'), dataIndex: 'kind', render: (v: Kind) => <Tag color={KIND_COLOR[v]}>{t(`kind.${v}` as MessageKey)}</Tag> },
    { title: t('wallet.amount'), dataIndex: 'amount', render: (v: Entry['amount']) => <MoneyText value={v} /> },
    { title: t('wallet.balanceAfter'), dataIndex: 'balanceAfter', render: (v: Entry['balanceAfter']) => (v ? <MoneyText value={v} /> : '—') },
    {
      title: t('wallet.note'),
      dataIndex: 'note',
      render: (v: string | null, e: Entry) => (e.kind === 'usage' && e.requests !== undefined ? t('wallet.ledger.requests', { n: e.requests.toLocaleString(locale) }) : historyNote(t, e.reference, v) ?? <code className="muted">{e.reference}</code>),
    },
  ];

  return (
    <div className="card" id="ledger">
      <div className="card-head">
        <Typography.Title heading={4}>{t('wallet.ledger')}</Typography.Title>
        <a className="semi-button semi-button-tertiary semi-button-light pay-link" href={`/api/wallet/ledger?${csv}`} download="wallet-ledger.csv">
          {t('wallet.ledger.csv')}
        </a>
      </div>
      <div className="filters ledger-filters">
        <label className="filter">
          <span className="field-label">{t('wallet.kind')}</span>
          <NativeSelect label={t('wallet.kind')} value={kind} placeholder={t('common.all')} options={KINDS.map((k) => ({ value: k, label: t(`kind.${k}` as MessageKey) }))} onChange={(v) => change(() => setKind(v))} />
        </label>
        <label className="filter">
          <span className="field-label">{t('wallet.ledger.from')}</span>
          <input type="date" className="native-date" value={from} max={to || undefined} onChange={(e) => change(() => setFrom(e.target.value))} />
        </label>
        <label className="filter">
          <span className="field-label">{t('wallet.ledger.to')}</span>
          <input type="date" className="native-date" value={to} min={from || undefined} onChange={(e) => change(() => setTo(e.target.value))} />
        </label>
      </div>
      <ErrorBanner error={ledger.error} />
      <DataTable label={t('wallet.ledger')} rowKey="reference" columns={columns} data={ledger.data?.items ?? []} loading={ledger.isFetching} minWidth={760} paging={{ page, pageSize: PAGE_SIZE, total: ledger.data?.total ?? 0, onPageChange: setPage }} />
    </div>
  );
}
