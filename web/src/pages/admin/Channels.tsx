import { Button, Input, InputNumber, Switch, Tag, TextArea, Toast } from '@douyinfe/semi-ui';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type CSSProperties } from 'react';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { errorMessage } from '../../components/ErrorBanner.tsx';
import { Field } from '../../components/Field.tsx';
import { FormDialog, useSubmit } from '../../components/FormDialog.tsx';
import { NativeSelect } from '../../components/NativeSelect.tsx';
import { EditDeleteActions, TablePage } from '../../components/TablePage.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { splitList } from '../../lib/format.ts';

type Channel = Schemas['Channel'];
type ChannelType = Channel['type'];
const TYPES: ChannelType[] = ['openai', 'anthropic', 'gemini', 'azure', 'vertex'];

/** The editable part of a channel's config: header values are write-only (masked), so they are left out. */
function editableConfig(c: Channel | undefined): string {
  if (!c) return '';
  const { headers: _masked, ...rest } = c.config;
  return Object.keys(rest).length ? JSON.stringify(rest) : '';
}

function ChannelDialog({ existing, onClose }: { existing?: Channel; onClose(): void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState(existing?.name ?? '');
  const [baseUrl, setBaseUrl] = useState(existing?.baseUrl ?? '');
  const [type, setType] = useState<ChannelType>(existing?.type ?? 'openai');
  const [apiKey, setApiKey] = useState('');
  const [config, setConfig] = useState(editableConfig(existing));
  const [models, setModels] = useState((existing?.models ?? []).join(', '));
  const [groups, setGroups] = useState((existing?.groups ?? []).join(', '));
  const [priority, setPriority] = useState<number>(existing?.priority ?? 0);
  const [weight, setWeight] = useState<number>(existing?.weight ?? 1);
  const { error, busy, run } = useSubmit();

  const submit = () =>
    run(async () => {
      let parsedConfig: Channel['config'] | undefined;
      try {
        const c: unknown = config.trim() ? JSON.parse(config) : undefined;
        if (c !== undefined && (typeof c !== 'object' || c === null || Array.isArray(c))) throw new Error('not an object');
        parsedConfig = c as Channel['config'] | undefined;
      } catch {
        throw new Error(t('providers.configInvalid'));
      }
      const common = { name, baseUrl, type, models: splitList(models), priority, weight, ...(splitList(groups).length ? { groups: splitList(groups) } : {}), ...(parsedConfig ? { config: parsedConfig } : {}) };
      if (existing) {
        await unwrap(api.PATCH('/api/admin/channels/{id}', { params: { path: { id: existing.id } }, body: { ...common, ...(apiKey ? { apiKey } : {}) } }));
      } else {
        await unwrap(api.POST('/api/admin/channels', { body: { ...common, apiKey } }));
      }
      await queryClient.invalidateQueries({ queryKey: ['admin', 'channels'] });
      onClose();
    });

  return (
    <FormDialog title={existing ? t('admin.editChannel') : t('admin.addChannel')} submitLabel={existing ? t('common.save') : t('common.create')} busy={busy} error={error} onSubmit={submit} onClose={onClose}>
      <Field id="ch-name" label={t('common.name')}>
        <Input id="ch-name" value={name} onChange={setName} />
      </Field>
      <Field id="ch-type" label={t('providers.type')}>
        <NativeSelect<ChannelType> id="ch-type" value={type} onChange={(v) => v && setType(v)} options={TYPES.map((v) => ({ value: v, label: v }))} />
      </Field>
      <Field id="ch-url" label={t('admin.baseUrl')} hint="https://api.openai.com/v1">
        <Input id="ch-url" value={baseUrl} onChange={setBaseUrl} />
      </Field>
      <Field id="ch-key" label={existing ? t('admin.apiKeyKeep') : t('admin.apiKey')} hint={t('providers.keyHint')}>
        {/* A text area (several keys, a JSON file) masked like a password field. */}
        <TextArea id="ch-key" autoComplete="off" spellCheck={false} rows={2} value={apiKey} onChange={setApiKey} style={{ WebkitTextSecurity: 'disc' } as CSSProperties} />
      </Field>
      <Field id="ch-config" label={t('providers.config')} hint={t('providers.configHint')}>
        <TextArea id="ch-config" rows={2} value={config} onChange={setConfig} />
      </Field>
      <Field id="ch-models" label={t('admin.modelsList')}>
        <Input id="ch-models" value={models} onChange={setModels} />
      </Field>
      <Field id="ch-groups" label={t('admin.groupsList')}>
        <Input id="ch-groups" value={groups} onChange={setGroups} />
      </Field>
      <div className="row">
        <Field id="ch-priority" label={t('admin.priority')}>
          <InputNumber id="ch-priority" value={priority} onChange={(v) => setPriority(Number(v) || 0)} />
        </Field>
        <Field id="ch-weight" label={t('admin.weight')}>
          <InputNumber id="ch-weight" min={0} value={weight} onChange={(v) => setWeight(Number(v) || 0)} />
        </Field>
      </div>
    </FormDialog>
  );
}

export default function Channels() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const channels = useQuery({ queryKey: ['admin', 'channels'], queryFn: () => unwrap(api.GET('/api/admin/channels')) });
  const [dialog, setDialog] = useState<{ existing?: Channel } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['admin', 'channels'] });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: number; enabled: boolean }) => unwrap(api.PATCH('/api/admin/channels/{id}', { params: { path: { id } }, body: { enabled } })),
    onSuccess: refresh,
    onError: (err) => Toast.error(errorMessage(err)),
  });
  const test = useMutation({
    mutationFn: (id: number) => unwrap(api.POST('/api/admin/channels/{id}/test', { params: { path: { id } } })),
    onSuccess: (r) => {
      if (r.status < 400) Toast.success(t('channels.testPassed', { status: r.status, latency: r.latency }));
      else Toast.error(t('channels.testFailed', { status: r.status, latency: r.latency, error: r.error ?? '' }));
      refresh();
    },
    onError: (err) => Toast.error(errorMessage(err)),
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/admin/channels/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (err) => Toast.error(errorMessage(err)),
  });

  const columns = [
    { title: t('common.name'), dataIndex: 'name' },
    { title: t('admin.baseUrl'), dataIndex: 'baseUrl', render: (v: string) => <code>{v}</code> },
    { title: t('common.models'), dataIndex: 'models', render: (v: string[]) => v.join(', ') },
    { title: t('common.group'), dataIndex: 'groups', render: (v: string[]) => v.join(', ') },
    { title: t('admin.priority'), dataIndex: 'priority' },
    { title: t('admin.weight'), dataIndex: 'weight' },
    { title: t('admin.problem'), dataIndex: 'problem', render: (v: string | null) => (v ? <Tag color="red">{v}</Tag> : '—') },
    {
      title: t('channels.health'),
      dataIndex: 'status',
      render: (v: Channel['status'], c: Channel) =>
        v === 'auto_disabled' ? (
          <Tag color="red">
            {t('channels.autoDisabled')}: {c.statusReason}
          </Tag>
        ) : c.recentFailures > 0 ? (
          <Tag color="orange">{t('channels.recentFailures', { failures: c.recentFailures, attempts: c.recentAttempts })}</Tag>
        ) : (
          <Tag color="green">{t('channels.healthOk')}</Tag>
        ),
    },
    { title: t('common.status'), dataIndex: 'enabled', render: (v: boolean, c: Channel) => <Switch checked={v} aria-label={`${t('common.enabled')}: ${c.name}`} onChange={(on) => toggle.mutate({ id: c.id, enabled: on })} /> },
    {
      title: t('common.actions'),
      dataIndex: 'id',
      render: (_: number, c: Channel) => (
        <EditDeleteActions name={c.name} onEdit={() => setDialog({ existing: c })} onDelete={() => remove.mutate(c.id)}>
          <Button size="small" loading={test.isPending && test.variables === c.id} onClick={() => test.mutate(c.id)}>
            {t('channels.test')}
          </Button>
        </EditDeleteActions>
      ),
    },
  ];

  return (
    <TablePage
      title={t('admin.channels')}
      add={{ label: t('admin.addChannel'), onClick: () => setDialog({}) }}
      error={channels.error}
      table={{ rowKey: 'id', columns, data: channels.data?.items ?? [], loading: channels.isPending, minWidth: 1100 }}
    >
      {dialog && <ChannelDialog existing={dialog.existing} onClose={() => setDialog(null)} />}
    </TablePage>
  );
}
