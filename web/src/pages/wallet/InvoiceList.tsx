// The user's invoice requests with their status: the e-invoice link once issued, the reason if rejected.
import { Tag, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate } from '../../lib/format.ts';
import { formatPay } from './money.ts';

type Invoice = Schemas['Invoice'];
const PAGE_SIZE = 10;
const COLOR = { pending: 'amber', issued: 'green', rejected: 'red' } as const;

export function InvoiceList() {
  const { t, locale } = useI18n();
  const [page, setPage] = useState(1);
  const invoices = useQuery({
    queryKey: ['wallet', 'invoices', page],
    queryFn: () => unwrap(api.GET('/api/wallet/invoices', { params: { query: { page, pageSize: PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  const columns = [
    { title: t('common.time'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    { title: t('wallet.invoice.companyTitle'), dataIndex: 'title', render: (v: string, i: Invoice) => (<span>{v}<div className="muted">{i.taxId}</div></span>) },
    { title: t('wallet.invoice.type'), dataIndex: 'type', render: (v: Invoice['type']) => t(`wallet.invoice.type.${v}`) },
    { title: t('wallet.amount'), dataIndex: 'amount', render: (v: string, i: Invoice) => formatPay(v, i.currency) },
    { title: t('wallet.invoice.topups'), dataIndex: 'orderNos', render: (v: string[]) => v.map((n) => <code key={n} className="block-code">{n}</code>) },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (v: Invoice['status'], i: Invoice) => (
        <span>
          <Tag color={COLOR[v]}>{t(`wallet.invoice.status.${v}`)}</Tag>
          {v === 'issued' && i.url && (
            <a href={i.url} target="_blank" rel="noreferrer" className="invoice-link">
              {t('wallet.invoice.download')}
            </a>
          )}
          {v === 'rejected' && i.rejectReason && <div className="muted">{i.rejectReason}</div>}
        </span>
      ),
    },
  ];
  return (
    <div className="subsection">
      <Typography.Title heading={5}>{t('wallet.invoice.mine')}</Typography.Title>
      <ErrorBanner error={invoices.error} />
      <DataTable label={t('wallet.invoice.mine')} rowKey="id" columns={columns} data={invoices.data?.items ?? []} loading={invoices.isFetching} minWidth={820} paging={{ page, pageSize: PAGE_SIZE, total: invoices.data?.total ?? 0, onPageChange: setPage }} />
    </div>
  );
}
