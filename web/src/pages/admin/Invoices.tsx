import { Button, Input, Space, Tag, Toast } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, fieldError, unwrap, type Schemas } from '../../api/client.ts';
import { Field } from '../../components/Field.tsx';
import { FormDialog, useSubmit } from '../../components/FormDialog.tsx';
import { NativeSelect } from '../../components/NativeSelect.tsx';
import { FilterBar, TablePage } from '../../components/TablePage.tsx';
import type { MessageKey } from '../../i18n/en.ts';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate } from '../../lib/format.ts';
import '../../styles/pages.css';

type Invoice = Schemas['AdminInvoice'];
type Status = Invoice['status'];
const PAGE_SIZE = 20;
const STATUSES: Status[] = ['pending', 'issued', 'rejected'];
const STATUS_COLOR: Record<Status, 'orange' | 'green' | 'red'> = { pending: 'orange', issued: 'green', rejected: 'red' };

/** Issue (with the e-invoice's URL) or reject (with a reason the user sees). */
function DecideDialog({ invoice, action, onClose, onDone }: { invoice: Invoice; action: 'issue' | 'reject'; onClose(): void; onDone(): void }) {
  const { t } = useI18n();
  const [value, setValue] = useState('');
  const [touched, setTouched] = useState(false);
  const { error, busy, run } = useSubmit();
  const field = action === 'issue' ? 'url' : 'reason';
  const localError = touched && (action === 'issue' ? !/^https?:\/\/\S+$/.test(value.trim()) : !value.trim()) ? t(action === 'issue' ? 'p.inv.urlRule' : 'admin.reasonRequired') : undefined;
  const shownError = localError ?? fieldError(error, field);
  const submit = async () => {
    setTouched(true);
    if (action === 'issue' ? !/^https?:\/\/\S+$/.test(value.trim()) : !value.trim()) return;
    await run(async () => {
      const path = { params: { path: { id: invoice.id } } };
      if (action === 'issue') await unwrap(api.POST('/api/admin/invoices/{id}/issue', { ...path, body: { url: value.trim() } }));
      else await unwrap(api.POST('/api/admin/invoices/{id}/reject', { ...path, body: { reason: value.trim() } }));
      Toast.success(t(action === 'issue' ? 'p.inv.issued' : 'p.inv.rejected'));
      onDone();
    });
  };
  return (
    <FormDialog
      title={t(action === 'issue' ? 'p.inv.issueTitle' : 'p.inv.rejectTitle', { id: invoice.id, title: invoice.title })}
      submitLabel={t(action === 'issue' ? 'p.inv.issue' : 'p.inv.reject')}
      submitType={action === 'issue' ? 'primary' : 'danger'}
      busy={busy}
      error={error}
      onSubmit={submit}
      onClose={onClose}
    >
      <dl className="detail">
        <dt>{t('p.inv.company')}</dt>
        <dd>{invoice.title}</dd>
        <dt>{t('p.inv.taxId')}</dt>
        <dd>{invoice.taxId}</dd>
        <dt>{t('p.inv.amount')}</dt>
        <dd>
          {invoice.amount} {invoice.currency}
        </dd>
        <dt>{t('p.inv.email')}</dt>
        <dd>{invoice.email}</dd>
      </dl>
      <Field id={`invoice-${field}`} label={t(action === 'issue' ? 'p.inv.url' : 'admin.reason')} hint={action === 'issue' ? 'https://…' : undefined} error={shownError}>
        <Input id={`invoice-${field}`} type={action === 'issue' ? 'url' : 'text'} value={value} onChange={setValue} maxLength={action === 'issue' ? 2048 : 500} validateStatus={shownError ? 'error' : 'default'} />
      </Field>
    </FormDialog>
  );
}

/** The invoice queue: filter by status or company, issue or reject. */
export default function Invoices() {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<Status | undefined>('pending');
  const [applied, setApplied] = useState<{ search?: string; status?: Status }>({ status: 'pending' });
  const [page, setPage] = useState(1);
  const [deciding, setDeciding] = useState<{ invoice: Invoice; action: 'issue' | 'reject' } | null>(null);
  const invoices = useQuery({
    queryKey: ['admin', 'invoices', applied, page],
    queryFn: () => unwrap(api.GET('/api/admin/invoices', { params: { query: { page, pageSize: PAGE_SIZE, ...applied } } })),
    placeholderData: keepPreviousData,
  });

  const columns = [
    { title: '#', dataIndex: 'id', render: (v: number, i: Invoice) => (<>#{v}<div className="muted">{formatDate(i.createdAt, locale)}</div></>) },
    { title: t('p.inv.company'), dataIndex: 'title', render: (v: string, i: Invoice) => (<><div>{v}</div><div className="muted">{i.taxId}</div><div className="muted">{i.email}</div></>) },
    { title: t('p.inv.type'), dataIndex: 'type', render: (v: Invoice['type'], i: Invoice) => (<><div>{t(`p.inv.type.${v}` as MessageKey)}</div><div className="muted">{i.lineItem}</div></>) },
    { title: t('p.inv.amount'), dataIndex: 'amount', render: (v: string, i: Invoice) => `${v} ${i.currency}` },
    { title: t('p.inv.orders'), dataIndex: 'orderNos', render: (v: string[]) => v.map((o) => <div key={o}><code>{o}</code></div>) },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (v: Status, i: Invoice) => (
        <>
          <Tag color={STATUS_COLOR[v]}>{t(`p.inv.status.${v}` as MessageKey)}</Tag>
          {i.url && (
            <div>
              <a href={i.url} target="_blank" rel="noreferrer">
                {t('p.inv.open')}
              </a>
            </div>
          )}
          {i.rejectReason && <div className="muted">{i.rejectReason}</div>}
          {i.decidedBy && <div className="muted">{t('p.inv.decidedBy', { name: i.decidedBy, date: formatDate(i.decidedAt, locale) })}</div>}
        </>
      ),
    },
    {
      title: t('common.actions'),
      dataIndex: 'id',
      key: 'actions',
      render: (_: number, i: Invoice) =>
        i.status === 'pending' ? (
          <Space wrap>
            <Button size="small" theme="solid" aria-label={`${t('p.inv.issue')}: #${i.id}`} onClick={() => setDeciding({ invoice: i, action: 'issue' })}>
              {t('p.inv.issue')}
            </Button>
            <Button size="small" type="danger" aria-label={`${t('p.inv.reject')}: #${i.id}`} onClick={() => setDeciding({ invoice: i, action: 'reject' })}>
              {t('p.inv.reject')}
            </Button>
          </Space>
        ) : null,
    },
  ];

  return (
    <TablePage
      title={t('p.inv.title')}
      filters={
        <FilterBar
          onSearch={() => {
            setApplied({ ...(search.trim() ? { search: search.trim() } : {}), ...(status ? { status } : {}) });
            setPage(1);
          }}
        >
          <Input aria-label={t('p.inv.search')} placeholder={t('p.inv.search')} value={search} onChange={setSearch} style={{ width: 260 }} />
          <NativeSelect<Status> label={t('common.status')} value={status} placeholder={`${t('common.status')}: ${t('common.all')}`} options={STATUSES.map((s) => ({ value: s, label: t(`p.inv.status.${s}` as MessageKey) }))} onChange={setStatus} />
        </FilterBar>
      }
      error={invoices.error}
      table={{ rowKey: 'id', columns, data: invoices.data?.items ?? [], loading: invoices.isFetching, minWidth: 940, paging: { page, pageSize: PAGE_SIZE, total: invoices.data?.total ?? 0, onPageChange: setPage } }}
    >
      {deciding && (
        <DecideDialog
          invoice={deciding.invoice}
          action={deciding.action}
          onClose={() => setDeciding(null)}
          onDone={() => {
            setDeciding(null);
            void queryClient.invalidateQueries({ queryKey: ['admin', 'invoices'] });
          }}
        />
      )}
    </TablePage>
  );
}
