import { Button, Input, Tag } from '@douyinfe/semi-ui';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, fieldError, unwrap, type Schemas } from '../../api/client.ts';
import { Field } from '../../components/Field.tsx';
import { FormDialog, useSubmit } from '../../components/FormDialog.tsx';
import { TablePage } from '../../components/TablePage.tsx';
import { useI18n } from '../../i18n/index.tsx';
import '../../styles/pages.css';

type Group = Schemas['Group'];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MULTIPLIER = /^\d+(\.\d{1,6})?$/;

function GroupDialog({ existing, onClose }: { existing?: Group; onClose(): void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState(existing?.name ?? '');
  const [multiplier, setMultiplier] = useState(existing?.multiplier ?? '1');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [selectable, setSelectable] = useState(existing?.selectable ?? false);
  const [touched, setTouched] = useState(false);
  const { error, busy, run } = useSubmit();
  const nameError = touched && !NAME.test(name) ? t('p.groups.nameRule') : fieldError(error, 'name');
  const multiplierError = touched && !MULTIPLIER.test(multiplier.trim()) ? t('p.groups.multiplierRule') : fieldError(error, 'multiplier');

  const submit = async () => {
    setTouched(true);
    if (!NAME.test(name) || !MULTIPLIER.test(multiplier.trim())) return;
    await run(async () => {
      await unwrap(api.PUT('/api/admin/groups/{name}', { params: { path: { name } }, body: { multiplier: multiplier.trim(), description, selectable } }));
      await queryClient.invalidateQueries({ queryKey: ['admin', 'groups'] });
      onClose();
    });
  };

  return (
    <FormDialog title={existing ? t('p.groups.edit', { name: existing.name }) : t('p.groups.add')} submitLabel={t('common.save')} busy={busy} error={error} onSubmit={submit} onClose={onClose}>
      {!existing && (
        <Field id="group-name" label={t('common.name')} hint={t('p.groups.nameRule')} error={nameError}>
          <Input id="group-name" value={name} onChange={setName} validateStatus={nameError ? 'error' : 'default'} />
        </Field>
      )}
      <Field id="group-multiplier" label={t('p.groups.multiplier')} hint={t('p.groups.multiplierHint')} error={multiplierError}>
        <Input id="group-multiplier" inputMode="decimal" value={multiplier} onChange={setMultiplier} validateStatus={multiplierError ? 'error' : 'default'} />
      </Field>
      <Field id="group-description" label={t('p.groups.description')} error={fieldError(error, 'description')}>
        <Input id="group-description" value={description} onChange={setDescription} maxLength={200} />
      </Field>
      <label className="check">
        <input type="checkbox" checked={selectable} onChange={(e) => setSelectable(e.target.checked)} /> {t('p.groups.selectable')}
      </label>
    </FormDialog>
  );
}

/** Groups and their price multipliers (a key's group decides its channels and its price). */
export default function Groups() {
  const { t } = useI18n();
  const groups = useQuery({ queryKey: ['admin', 'groups'], queryFn: () => unwrap(api.GET('/api/admin/groups')) });
  const [dialog, setDialog] = useState<{ existing?: Group } | null>(null);
  const columns = [
    { title: t('common.name'), dataIndex: 'name', render: (v: string) => <code>{v}</code> },
    { title: t('p.groups.multiplier'), dataIndex: 'multiplier', render: (v: string) => `× ${v}` },
    { title: t('p.groups.description'), dataIndex: 'description', render: (v: string) => v || '—' },
    { title: t('p.groups.selectableShort'), dataIndex: 'selectable', render: (v: boolean) => <Tag color={v ? 'green' : 'grey'}>{v ? t('common.yes') : t('common.no')}</Tag> },
    {
      title: t('common.actions'),
      dataIndex: 'name',
      key: 'actions',
      render: (_: string, g: Group) => (
        <Button size="small" aria-label={`${t('common.edit')}: ${g.name}`} onClick={() => setDialog({ existing: g })}>
          {t('common.edit')}
        </Button>
      ),
    },
  ];
  return (
    <TablePage
      title={t('p.groups.title')}
      add={{ label: t('p.groups.add'), onClick: () => setDialog({}) }}
      error={groups.error}
      intro={<p className="muted">{t('p.groups.intro')}</p>}
      table={{ rowKey: 'name', columns, data: groups.data?.items ?? [], loading: groups.isPending, minWidth: 640 }}
    >
      {dialog && <GroupDialog existing={dialog.existing} onClose={() => setDialog(null)} />}
    </TablePage>
  );
}
