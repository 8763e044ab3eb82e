import { Banner, Button, Modal, Switch, Tag, Toast, Typography } from '@douyinfe/semi-ui';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { errorMessage } from '../components/ErrorBanner.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { EditDeleteActions, TablePage } from '../components/TablePage.tsx';
import { useI18n } from '../i18n/index.tsx';
import { formatDate } from '../lib/format.ts';
import { KeyDialog, type KeyBody } from './KeyDialog.tsx';

type Key = Schemas['Key'];

export default function Keys() {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => unwrap(api.GET('/api/keys')) });
  const [dialog, setDialog] = useState<{ existing?: Key } | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['keys'] });

  const patch = useMutation({
    mutationFn: ({ id, body }: { id: number; body: Partial<KeyBody> & { enabled?: boolean } }) => unwrap(api.PATCH('/api/keys/{id}', { params: { path: { id } }, body })),
    onSuccess: refresh,
    onError: (err) => Toast.error(errorMessage(err)),
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/keys/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (err) => Toast.error(errorMessage(err)),
  });

  const submit = async (body: KeyBody) => {
    if (dialog?.existing) {
      await unwrap(api.PATCH('/api/keys/{id}', { params: { path: { id: dialog.existing.id } }, body }));
    } else {
      const k = await unwrap(api.POST('/api/keys', { body }));
      setCreated(k.key);
    }
    setDialog(null);
    await refresh();
  };

  const copy = async () => {
    if (!created) return;
    await navigator.clipboard.writeText(created);
    Toast.success(t('common.copied'));
  };

  const columns = [
    { title: t('common.name'), dataIndex: 'name' },
    { title: t('keys.key'), dataIndex: 'maskedKey', render: (v: string) => <code>{v}</code> },
    { title: t('common.group'), dataIndex: 'group' },
    {
      title: t('keys.expires'),
      dataIndex: 'expiresAt',
      render: (v: string | null) => (v ? Date.parse(v) < Date.now() ? <Tag color="red">{t('keys.expired')}</Tag> : formatDate(v, locale) : t('common.never')),
    },
    { title: t('keys.limit'), dataIndex: 'quotaLimit', render: (v: Key['quotaLimit']) => (v ? <MoneyText value={v} /> : t('common.unlimited')) },
    { title: t('keys.used'), dataIndex: 'used', render: (v: Key['used']) => <MoneyText value={v} /> },
    { title: t('keys.requests'), dataIndex: 'requestCount' },
    {
      title: t('common.status'),
      dataIndex: 'enabled',
      render: (v: boolean, k: Key) => (
        <Switch checked={v} aria-label={`${v ? t('keys.disable') : t('keys.enable')} ${k.name}`} onChange={(on) => patch.mutate({ id: k.id, body: { enabled: on } })} />
      ),
    },
    {
      title: t('common.actions'),
      dataIndex: 'id',
      render: (_: number, k: Key) => <EditDeleteActions name={k.name} onEdit={() => setDialog({ existing: k })} onDelete={() => remove.mutate(k.id)} />,
    },
  ];

  return (
    <TablePage
      title={t('keys.title')}
      add={{ label: t('keys.add'), onClick: () => setDialog({}) }}
      error={keys.error}
      table={{ rowKey: 'id', columns, data: keys.data?.items ?? [], loading: keys.isPending, minWidth: 1000 }}
    >
      {dialog && <KeyDialog existing={dialog.existing} onClose={() => setDialog(null)} onSubmit={submit} />}
      {created && (
        <Modal visible title={t('keys.created')} onCancel={() => setCreated(null)} footer={<Button onClick={() => setCreated(null)}>{t('common.close')}</Button>}>
          <Banner type="warning" fullMode={false} closeIcon={null} description={t('keys.onceWarning')} />
          <div className="new-key">
            <Typography.Text code data-testid="new-key">
              {created}
            </Typography.Text>
            <Button theme="solid" onClick={copy}>
              {t('common.copy')}
            </Button>
          </div>
        </Modal>
      )}
    </TablePage>
  );
}
