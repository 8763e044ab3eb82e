import { Banner, Button, Input, InputNumber, Modal, Switch, Tag, Toast, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, fieldError, unwrap, type Schemas } from '../../api/client.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { ErrorBanner, errorMessage } from '../../components/ErrorBanner.tsx';
import { Field } from '../../components/Field.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { download } from '../../lib/csv.ts';
import { formatDate } from '../../lib/format.ts';
import { usdToPoints } from '../../lib/money.ts';
import '../../styles/pages.css';

type Batch = Schemas['RedemptionBatch'];
type Code = Schemas['RedemptionCode'];
const PAGE_SIZE = 20;

interface Generated {
  batchId: number;
  csv: string;
  codes: string[];
}

/** The batch form: the codes come back once, as the server's CSV, downloaded at once. */
function GenerateForm({ onGenerated }: { onGenerated(g: Generated): void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [usd, setUsd] = useState('5');
  const [count, setCount] = useState<number>(10);
  const [expires, setExpires] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const points = usdToPoints(usd);
  const nameError = touched && !name.trim() ? t('p.notify.required') : fieldError(error, 'name');
  const usdError = touched && (points === null || points <= 0) ? t('keys.invalidAmount') : fieldError(error, 'usd');
  const countError = touched && !(count >= 1 && count <= 1000) ? t('p.codes.countRule') : fieldError(error, 'count');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!name.trim() || points === null || points <= 0 || !(count >= 1 && count <= 1000)) return;
    setBusy(true);
    setError(null);
    try {
      // An expiry day is the end of that day in the admin's time zone.
      const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined;
      const csv = await unwrap(
        api.POST('/api/admin/redemption-codes', {
          params: { query: { format: 'csv' } },
          body: { name: name.trim(), usd: usd.trim(), count, ...(expiresAt ? { expiresAt } : {}) },
          parseAs: 'text',
        }),
      );
      const text = String(csv);
      const rows = text.trim().split(/\r?\n/).slice(1);
      const batchId = Number(rows[0]?.split(',')[1] ?? 0);
      const generated = { batchId, csv: text, codes: rows.map((r) => r.split(',')[0]!) };
      download(`redemption-codes-${batchId}.csv`, text);
      onGenerated(generated);
      setName('');
      setTouched(false);
      await queryClient.invalidateQueries({ queryKey: ['admin', 'codes'] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form grid" onSubmit={submit} noValidate>
      <Field id="codes-name" label={t('p.codes.batchName')} error={nameError}>
        <Input id="codes-name" value={name} onChange={setName} maxLength={100} validateStatus={nameError ? 'error' : 'default'} />
      </Field>
      <Field id="codes-usd" label={t('p.codes.value')} hint={points ? t('common.points', { n: points.toLocaleString() }) : undefined} error={usdError}>
        <Input id="codes-usd" inputMode="decimal" prefix="$" value={usd} onChange={setUsd} validateStatus={usdError ? 'error' : 'default'} />
      </Field>
      <Field id="codes-count" label={t('p.codes.count')} hint="1–1000" error={countError}>
        <InputNumber id="codes-count" min={1} max={1000} value={count} onChange={(v) => setCount(Number(v) || 0)} />
      </Field>
      <Field id="codes-expires" label={t('p.codes.expires')} hint={t('p.codes.expiresHint')} error={fieldError(error, 'expiresAt')}>
        <input id="codes-expires" type="date" className="native-date" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </Field>
      <div className="form-actions">
        <ErrorBanner error={error} />
        <Button htmlType="submit" theme="solid" type="primary" loading={busy}>
          {t('p.codes.generate')}
        </Button>
      </div>
    </form>
  );
}

function BatchCodes({ batch, onClose }: { batch: Batch; onClose(): void }) {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: ['admin', 'codes', batch.id], queryFn: () => unwrap(api.GET('/api/admin/redemption-codes/{id}', { params: { path: { id: batch.id } } })) });
  const toggle = useMutation({
    mutationFn: ({ codeId, enabled }: { codeId: number; enabled: boolean }) => unwrap(api.PATCH('/api/admin/redemption-codes/{id}/codes/{codeId}', { params: { path: { id: batch.id, codeId } }, body: { enabled } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['admin', 'codes'] }),
    onError: (err) => Toast.error(errorMessage(err)),
  });
  const columns = [
    { title: t('p.codes.hint'), dataIndex: 'hint', render: (v: string) => <code>…{v}</code> },
    { title: t('p.codes.usedBy'), dataIndex: 'usedBy', render: (v: number | null) => (v === null ? '—' : `#${v}`) },
    { title: t('p.codes.usedAt'), dataIndex: 'usedAt', render: (v: string | null) => formatDate(v, locale) },
    {
      title: t('common.enabled'),
      dataIndex: 'enabled',
      render: (v: boolean, c: Code) => <Switch checked={v} disabled={c.usedAt !== null} aria-label={`${t('common.enabled')}: …${c.hint}`} onChange={(on) => toggle.mutate({ codeId: c.id, enabled: on })} />,
    },
  ];
  return (
    <Modal visible title={t('p.codes.codesOf', { name: batch.name })} onCancel={onClose} footer={<Button onClick={onClose}>{t('common.close')}</Button>} width={640}>
      <ErrorBanner error={detail.error} />
      <DataTable label={t('p.codes.codesOf', { name: batch.name })} rowKey="id" columns={columns} data={detail.data?.codes ?? []} loading={detail.isPending} minWidth={480} />
    </Modal>
  );
}

export default function Codes() {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [generated, setGenerated] = useState<Generated | null>(null);
  const [viewing, setViewing] = useState<Batch | null>(null);
  const batches = useQuery({
    queryKey: ['admin', 'codes', 'list', page],
    queryFn: () => unwrap(api.GET('/api/admin/redemption-codes', { params: { query: { page, pageSize: PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: number; enabled: boolean }) => unwrap(api.PATCH('/api/admin/redemption-codes/{id}', { params: { path: { id } }, body: { enabled } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['admin', 'codes'] }),
    onError: (err) => Toast.error(errorMessage(err)),
  });

  const columns = [
    { title: t('p.codes.batchName'), dataIndex: 'name' },
    { title: t('p.codes.value'), dataIndex: 'value', render: (v: Batch['value']) => <MoneyText value={v} /> },
    { title: t('p.codes.usedCount'), dataIndex: 'usedCount', render: (v: number, b: Batch) => `${v} / ${b.count}` },
    { title: t('p.codes.expires'), dataIndex: 'expiresAt', render: (v: string | null) => (v ? (Date.parse(v) < Date.now() ? <Tag color="red">{t('keys.expired')}</Tag> : formatDate(v, locale)) : t('common.never')) },
    { title: t('p.codes.created'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    { title: t('common.enabled'), dataIndex: 'enabled', render: (v: boolean, b: Batch) => <Switch checked={v} aria-label={`${t('common.enabled')}: ${b.name}`} onChange={(on) => toggle.mutate({ id: b.id, enabled: on })} /> },
    {
      title: t('common.actions'),
      dataIndex: 'id',
      render: (_: number, b: Batch) => (
        <Button size="small" aria-label={`${t('p.codes.showCodes')}: ${b.name}`} onClick={() => setViewing(b)}>
          {t('p.codes.showCodes')}
        </Button>
      ),
    },
  ];

  return (
    <section>
      <PageHeader title={t('p.codes.title')} />
      <GenerateForm onGenerated={setGenerated} />
      <ErrorBanner error={batches.error} />
      <div className="card">
        <DataTable label={t('p.codes.batches')} rowKey="id" columns={columns} data={batches.data?.items ?? []} loading={batches.isFetching} minWidth={900} paging={{ page, pageSize: PAGE_SIZE, total: batches.data?.total ?? 0, onPageChange: setPage }} />
      </div>
      {generated && (
        <Modal visible title={t('p.codes.generated', { n: generated.codes.length })} onCancel={() => setGenerated(null)} footer={<Button onClick={() => setGenerated(null)}>{t('common.close')}</Button>}>
          <Banner type="warning" fullMode={false} closeIcon={null} description={t('p.codes.once')} />
          <div className="codes-box" data-testid="generated-codes" tabIndex={0} role="region" aria-label={t('p.codes.title')}>
            {generated.codes.join('\n')}
          </div>
          <div className="inline-actions">
            <Button theme="solid" onClick={() => download(`redemption-codes-${generated.batchId}.csv`, generated.csv)}>
              {t('p.codes.downloadAgain')}
            </Button>
            <Button
              onClick={async () => {
                await navigator.clipboard.writeText(generated.codes.join('\n'));
                Toast.success(t('common.copied'));
              }}
            >
              {t('common.copy')}
            </Button>
          </div>
          <Typography.Text type="secondary" size="small">
            {t('p.codes.downloaded')}
          </Typography.Text>
        </Modal>
      )}
      {viewing && <BatchCodes batch={viewing} onClose={() => setViewing(null)} />}
    </section>
  );
}
