import { Button, Input, Popconfirm, Space, Tag, Toast } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, fieldError, unwrap, type Schemas } from '../../api/client.ts';
import { errorMessage } from '../../components/ErrorBanner.tsx';
import { Field } from '../../components/Field.tsx';
import { FormDialog, useSubmit } from '../../components/FormDialog.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { NativeSelect } from '../../components/NativeSelect.tsx';
import { FilterBar, TablePage } from '../../components/TablePage.tsx';
import type { MessageKey } from '../../i18n/en.ts';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate } from '../../lib/format.ts';
import { methodLabel } from './labels.ts';
import '../../styles/pages.css';

type Order = Schemas['AdminTopupOrder'];
type Status = Order['status'];
type Method = Order['method'];
const PAGE_SIZE = 20;
const STATUSES: Status[] = ['pending', 'paid', 'expired', 'failed', 'refunded'];
const METHODS: Method[] = ['alipay', 'lantu', 'epay', 'stripe', 'transfer', 'sandbox'];
const STATUS_COLOR: Record<Status, 'orange' | 'green' | 'grey' | 'red' | 'purple'> = { pending: 'orange', paid: 'green', expired: 'grey', failed: 'red', refunded: 'purple' };

function RefundDialog({ order, onClose, onDone }: { order: Order; onClose(): void; onDone(): void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const { error, busy, run } = useSubmit();
  const reasonError = touched && !reason.trim() ? t('admin.reasonRequired') : fieldError(error, 'reason');
  const submit = async () => {
    setTouched(true);
    if (!reason.trim()) return;
    await run(async () => {
      await unwrap(api.POST('/api/admin/orders/{orderNo}/refund', { params: { path: { orderNo: order.orderNo } }, body: { reason: reason.trim() } }));
      Toast.success(t('p.orders.refunded'));
      onDone();
    });
  };
  return (
    <FormDialog title={t('p.orders.refundTitle', { order: order.orderNo })} submitLabel={t('p.orders.refund')} submitType="danger" busy={busy} error={error} onSubmit={submit} onClose={onClose}>
      <p>{t('p.orders.refundText')}</p>
      <Field id="refund-reason" label={t('admin.reason')} error={reasonError}>
        <Input id="refund-reason" value={reason} onChange={setReason} maxLength={200} validateStatus={reasonError ? 'error' : 'default'} />
      </Field>
    </FormDialog>
  );
}

/** Every top-up order: search, re-check with the provider, confirm a bank transfer, refund. */
export default function Orders() {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<Status | undefined>();
  const [method, setMethod] = useState<Method | undefined>();
  const [applied, setApplied] = useState<{ search?: string; status?: Status; method?: Method }>({});
  const [page, setPage] = useState(1);
  const [refunding, setRefunding] = useState<Order | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const orders = useQuery({
    queryKey: ['admin', 'orders', applied, page],
    queryFn: () => unwrap(api.GET('/api/admin/orders', { params: { query: { page, pageSize: PAGE_SIZE, ...applied } } })),
    placeholderData: keepPreviousData,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['admin', 'orders'] });

  const act = async (o: Order, action: 'recheck' | 'confirm') => {
    setBusy(`${action}:${o.orderNo}`);
    try {
      const updated =
        action === 'recheck'
          ? (await unwrap(api.POST('/api/admin/orders/{orderNo}/recheck', { params: { path: { orderNo: o.orderNo } } }))).order
          : await unwrap(api.POST('/api/admin/orders/{orderNo}/confirm', { params: { path: { orderNo: o.orderNo } }, body: {} }));
      Toast.success(t(updated.status === 'paid' ? 'p.orders.nowPaid' : 'p.orders.stillStatus', { status: t(`p.status.${updated.status}` as MessageKey) }));
      await refresh();
    } catch (err) {
      Toast.error(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const columns = [
    {
      title: t('p.orders.orderNo'),
      dataIndex: 'orderNo',
      render: (v: string, o: Order) => (
        <>
          <code>{v}</code> {o.sandbox && <Tag color="amber">SANDBOX</Tag>}
          <div className="muted">{o.username ?? `#${o.userId}`}</div>
        </>
      ),
    },
    { title: t('p.orders.method'), dataIndex: 'method', render: (v: Method, o: Order) => (<>{methodLabel(t, v)}<div className="muted">{o.payAmount} {o.payCurrency}</div></>) },
    { title: t('p.orders.credit'), dataIndex: 'amount', render: (v: Order['amount'], o: Order) => (<><MoneyText value={v} />{o.bonus.quota > 0 && <div className="muted">+ <MoneyText value={o.bonus} /></div>}</>) },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (v: Status, o: Order) => (
        <>
          <Tag color={STATUS_COLOR[v]}>{t(`p.status.${v}` as MessageKey)}</Tag>
          {o.paidAfterExpiry && <div className="muted">{t('p.orders.afterExpiry')}</div>}
          {o.confirmedBy && <div className="muted">{t('p.orders.confirmedBy', { name: o.confirmedBy })}</div>}
          {o.refundReason && <div className="muted">{t('p.orders.refundReason', { reason: o.refundReason })}</div>}
        </>
      ),
    },
    { title: t('p.orders.created'), dataIndex: 'createdAt', render: (v: string, o: Order) => (<>{formatDate(v, locale)}{o.paidAt && <div className="muted">{t('p.orders.paidAt')}: {formatDate(o.paidAt, locale)}</div>}</>) },
    {
      title: t('common.actions'),
      dataIndex: 'orderNo',
      key: 'actions',
      render: (_: string, o: Order) => {
        const open = o.status === 'pending' || o.status === 'expired';
        return (
          <Space wrap>
            {open && o.method === 'transfer' && (
              <Popconfirm title={t('p.orders.confirm')} content={t('p.orders.confirmText', { amount: `${o.payAmount} ${o.payCurrency}` })} okText={t('p.orders.confirm')} cancelText={t('common.cancel')} onConfirm={() => act(o, 'confirm')}>
                <Button size="small" theme="solid" loading={busy === `confirm:${o.orderNo}`} aria-label={`${t('p.orders.confirm')}: ${o.orderNo}`}>
                  {t('p.orders.confirm')}
                </Button>
              </Popconfirm>
            )}
            {open && o.method !== 'transfer' && o.method !== 'sandbox' && (
              <Button size="small" loading={busy === `recheck:${o.orderNo}`} aria-label={`${t('p.orders.recheck')}: ${o.orderNo}`} onClick={() => act(o, 'recheck')}>
                {t('p.orders.recheck')}
              </Button>
            )}
            {o.status === 'paid' && (
              <Button size="small" type="danger" aria-label={`${t('p.orders.refund')}: ${o.orderNo}`} onClick={() => setRefunding(o)}>
                {t('p.orders.refund')}
              </Button>
            )}
          </Space>
        );
      },
    },
  ];

  return (
    <TablePage
      title={t('p.orders.title')}
      filters={
        <FilterBar
          onSearch={() => {
            setApplied({ ...(search.trim() ? { search: search.trim() } : {}), ...(status ? { status } : {}), ...(method ? { method } : {}) });
            setPage(1);
          }}
        >
          <Input aria-label={t('p.orders.search')} placeholder={t('p.orders.search')} value={search} onChange={setSearch} style={{ width: 280 }} />
          <NativeSelect<Status> label={t('common.status')} value={status} placeholder={`${t('common.status')}: ${t('common.all')}`} options={STATUSES.map((s) => ({ value: s, label: t(`p.status.${s}` as MessageKey) }))} onChange={setStatus} />
          <NativeSelect<Method> label={t('p.orders.method')} value={method} placeholder={`${t('p.orders.method')}: ${t('common.all')}`} options={METHODS.map((m) => ({ value: m, label: methodLabel(t, m) }))} onChange={setMethod} />
        </FilterBar>
      }
      error={orders.error}
      table={{ rowKey: 'orderNo', columns, data: orders.data?.items ?? [], loading: orders.isFetching, minWidth: 940, paging: { page, pageSize: PAGE_SIZE, total: orders.data?.total ?? 0, onPageChange: setPage } }}
    >
      {refunding && (
        <RefundDialog
          order={refunding}
          onClose={() => setRefunding(null)}
          onDone={() => {
            setRefunding(null);
            void refresh();
          }}
        />
      )}
    </TablePage>
  );
}
