// The user's top-up orders with their status (paginated on the server); a pending one can be
// reopened to pay or watch it (the top-up section shows the order named by ?order=).
import { Button, Tag, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate } from '../../lib/format.ts';
import { formatUsd } from '../../lib/money.ts';
import { formatPay } from './money.ts';
import { STATUS_COLOR } from './OrderPanel.tsx';
import { useChoiceLabel } from './hooks.ts';

type Order = Schemas['TopupOrder'];
const PAGE_SIZE = 10;

export function Orders() {
  const { t, locale } = useI18n();
  const label = useChoiceLabel();
  const [page, setPage] = useState(1);
  const [, setParams] = useSearchParams();
  const onOpen = (orderNo: string) => {
    setParams(
      (p) => {
        p.set('order', orderNo);
        return p;
      },
      { replace: true },
    );
    document.getElementById('topup')?.scrollIntoView({ block: 'start' });
  };
  const orders = useQuery({
    queryKey: ['wallet', 'orders', page],
    queryFn: () => unwrap(api.GET('/api/wallet/orders', { params: { query: { page, pageSize: PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  const columns = [
    { title: t('common.time'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    {
      title: t('wallet.amount'),
      dataIndex: 'usd',
      render: (v: string, o: Order) => (
        <span>
          {formatUsd(v)}
          {o.bonus.quota > 0 && (
            <span className="muted">
              {' '}
              + <MoneyText value={o.bonus} hidePoints /> {t('wallet.topup.bonus')}
            </span>
          )}
        </span>
      ),
    },
    { title: t('wallet.orders.paid'), dataIndex: 'payAmount', render: (v: string, o: Order) => formatPay(v, o.payCurrency) },
    {
      title: t('wallet.orders.method'),
      dataIndex: 'method',
      render: (_: unknown, o: Order) => (
        <span>
          {label({ method: o.method, channel: o.channel ?? undefined })}
          <code className="block-code muted">{o.orderNo}</code>
        </span>
      ),
    },
    { title: t('common.status'), dataIndex: 'status', render: (v: Order['status']) => <Tag color={STATUS_COLOR[v]}>{t(`wallet.status.${v}`)}</Tag> },
    {
      title: t('common.actions'),
      dataIndex: 'actions',
      render: (_: unknown, o: Order) =>
        o.status === 'pending' ? (
          <Button size="small" onClick={() => onOpen(o.orderNo)} aria-label={t('wallet.orders.openLabel', { orderNo: o.orderNo })}>
            {t('wallet.orders.open')}
          </Button>
        ) : null,
    },
  ];
  return (
    <div className="card" id="orders">
      <Typography.Title heading={4}>{t('wallet.orders.title')}</Typography.Title>
      <ErrorBanner error={orders.error} />
      <DataTable label={t('wallet.orders.title')} rowKey="orderNo" columns={columns} data={orders.data?.items ?? []} loading={orders.isFetching} minWidth={680} paging={{ page, pageSize: PAGE_SIZE, total: orders.data?.total ?? 0, onPageChange: setPage }} />
    </div>
  );
}
