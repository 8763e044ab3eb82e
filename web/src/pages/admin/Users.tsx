import { Button, Input, Switch, Tag, Toast } from '@douyinfe/semi-ui';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { errorMessage } from '../../components/ErrorBanner.tsx';
import { Field } from '../../components/Field.tsx';
import { FormDialog, useSubmit } from '../../components/FormDialog.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { FilterBar, TablePage } from '../../components/TablePage.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate } from '../../lib/format.ts';
import { usdToPoints } from '../../lib/money.ts';

type User = Schemas['AdminUser'];
const PAGE_SIZE = 20;

function AdjustDialog({ user, onClose }: { user: User; onClose(): void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const { error, busy, run } = useSubmit();
  // One key per dialog: a double click or a retry after a lost answer applies once.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const points = usdToPoints(amount);
  const amountError = touched && (points === null || points === 0) ? t('keys.invalidAmount') : undefined;
  const reasonError = touched && !reason.trim() ? t('admin.reasonRequired') : undefined;

  const submit = async () => {
    setTouched(true);
    if (points === null || points === 0 || !reason.trim()) return;
    await run(async () => {
      await unwrap(api.POST('/api/admin/users/{id}/adjust', { params: { path: { id: user.id }, header: { 'idempotency-key': idempotencyKey } }, body: { quota: points, reason: reason.trim() } }));
      Toast.success(t('admin.adjusted'));
      await queryClient.invalidateQueries({ queryKey: ['admin', 'users'] });
      onClose();
    });
  };

  return (
    <FormDialog title={t('admin.adjustFor', { name: user.username })} submitLabel={t('common.save')} busy={busy} error={error} onSubmit={submit} onClose={onClose}>
      <Field id="adjust-amount" label={t('admin.adjustAmount')} error={amountError}>
        <Input id="adjust-amount" inputMode="decimal" prefix="$" value={amount} onChange={setAmount} validateStatus={amountError ? 'error' : 'default'} />
      </Field>
      <Field id="adjust-reason" label={t('admin.reason')} error={reasonError}>
        <Input id="adjust-reason" value={reason} onChange={setReason} maxLength={200} validateStatus={reasonError ? 'error' : 'default'} />
      </Field>
    </FormDialog>
  );
}

export default function Users() {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [page, setPage] = useState(1);
  const [adjusting, setAdjusting] = useState<User | null>(null);
  const users = useQuery({
    queryKey: ['admin', 'users', applied, page],
    queryFn: () => unwrap(api.GET('/api/admin/users', { params: { query: { page, pageSize: PAGE_SIZE, ...(applied ? { search: applied } : {}) } } })),
    placeholderData: keepPreviousData,
  });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: number; enabled: boolean }) => unwrap(api.PATCH('/api/admin/users/{id}', { params: { path: { id } }, body: { enabled } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['admin', 'users'] }),
    onError: (err) => Toast.error(errorMessage(err)),
  });

  const columns = [
    { title: t('auth.username'), dataIndex: 'username' },
    { title: t('auth.email'), dataIndex: 'email', render: (v: string | null) => v ?? '—' },
    { title: t('admin.role'), dataIndex: 'role', render: (v: string) => <Tag>{v}</Tag> },
    { title: t('common.group'), dataIndex: 'group' },
    { title: t('dash.balance'), dataIndex: 'balance', render: (v: User['balance']) => <MoneyText value={v} /> },
    { title: t('keys.used'), dataIndex: 'used', render: (v: User['used']) => <MoneyText value={v} /> },
    { title: t('admin.joined'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    {
      title: t('common.status'),
      dataIndex: 'enabled',
      render: (v: boolean, u: User) => <Switch checked={v} disabled={u.role === 'root'} aria-label={`${t('common.enabled')}: ${u.username}`} onChange={(on) => toggle.mutate({ id: u.id, enabled: on })} />,
    },
    {
      title: t('common.actions'),
      dataIndex: 'id',
      render: (_: number, u: User) => (
        <Button size="small" onClick={() => setAdjusting(u)} aria-label={`${t('admin.adjust')}: ${u.username}`}>
          {t('admin.adjust')}
        </Button>
      ),
    },
  ];

  return (
    <TablePage
      title={t('admin.users')}
      filters={
        <FilterBar
          onSearch={() => {
            setApplied(search.trim());
            setPage(1);
          }}
        >
          <Input aria-label={t('admin.searchUsers')} placeholder={t('admin.searchUsers')} value={search} onChange={setSearch} style={{ width: 260 }} />
        </FilterBar>
      }
      error={users.error}
      table={{ rowKey: 'id', columns, data: users.data?.items ?? [], loading: users.isFetching, minWidth: 1000, paging: { page, pageSize: PAGE_SIZE, total: users.data?.total ?? 0, onPageChange: setPage } }}
    >
      {adjusting && <AdjustDialog user={adjusting} onClose={() => setAdjusting(null)} />}
    </TablePage>
  );
}
