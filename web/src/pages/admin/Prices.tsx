import { Button, Input, Popconfirm, Tag, Toast, Typography } from '@douyinfe/semi-ui';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { ErrorBanner, errorMessage } from '../../components/ErrorBanner.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatUsd } from '../../lib/money.ts';

type Price = Schemas['Price'];
// Optional USD-per-1M prices: empty = the input (or output) price. The form sends all of them, since a PUT replaces the price.
const OPTIONAL = ['cachedInput', 'cacheWrite', 'audioInput', 'audioOutput', 'imageInput', 'imageOutput'] as const;
const EMPTY = { model: '', input: '', output: '', cachedInput: '', cacheWrite: '', audioInput: '', audioOutput: '', imageInput: '', imageOutput: '', perRequest: '', maxOutputTokens: '' };
const OPTIONAL_LABELS = {
  cachedInput: 'admin.priceCached',
  cacheWrite: 'prices.cacheWrite',
  audioInput: 'prices.audioInput',
  audioOutput: 'prices.audioOutput',
  imageInput: 'prices.imageInput',
  imageOutput: 'prices.imageOutput',
} as const;

export default function Prices() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const prices = useQuery({ queryKey: ['admin', 'prices'], queryFn: () => unwrap(api.GET('/api/admin/prices')) });
  const [form, setForm] = useState(EMPTY);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ['admin', 'prices'] }), queryClient.invalidateQueries({ queryKey: ['pricing'] })]);
  const remove = useMutation({
    mutationFn: (model: string) => unwrap(api.DELETE('/api/admin/prices/{model}', { params: { path: { model } } })),
    onSuccess: refresh,
    onError: (err) => Toast.error(errorMessage(err)),
  });
  const set = (k: keyof typeof EMPTY) => (v: string) => setForm({ ...form, [k]: v });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        input: form.input || '0',
        output: form.output || '0',
        ...Object.fromEntries(OPTIONAL.map((k) => [k, form[k] || null])),
        perRequest: form.perRequest || null,
        maxOutputTokens: form.maxOutputTokens ? Number(form.maxOutputTokens) : null,
      };
      await unwrap(api.PUT('/api/admin/prices/{model}', { params: { path: { model: form.model.trim() } }, body }));
      Toast.success(t('common.saved'));
      setForm(EMPTY);
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const edit = (p: Price) =>
    setForm({ model: p.model, input: p.input, output: p.output, ...Object.fromEntries(OPTIONAL.map((k) => [k, p[k] ?? ''])), perRequest: p.perRequest ?? '', maxOutputTokens: p.maxOutputTokens ? String(p.maxOutputTokens) : '' } as typeof EMPTY);
  const usd = (v: string | null) => (v ? formatUsd(v) : '—');
  const pair = (a: string | null, b: string | null) => (a || b ? `${usd(a)} / ${usd(b)}` : '—');
  const columns = [
    { title: t('common.model'), dataIndex: 'model', render: (v: string) => <code>{v}</code> },
    { title: t('pricing.billing'), dataIndex: 'billing', render: (v: Price['billing']) => <Tag>{v === 'usage' ? t('pricing.usage') : t('pricing.perRequest')}</Tag> },
    { title: t('pricing.input'), dataIndex: 'input', render: usd },
    { title: t('pricing.output'), dataIndex: 'output', render: usd },
    { title: t('pricing.cachedInput'), dataIndex: 'cachedInput', render: usd },
    { title: t('prices.audioColumn'), dataIndex: 'audioInput', render: (_: unknown, p: Price) => pair(p.audioInput, p.audioOutput) },
    { title: t('prices.imageColumn'), dataIndex: 'imageInput', render: (_: unknown, p: Price) => pair(p.imageInput, p.imageOutput) },
    { title: t('pricing.request'), dataIndex: 'perRequest', render: usd },
    { title: t('admin.maxOutput'), dataIndex: 'maxOutputTokens', render: (v: number | null) => v ?? '—' },
    {
      title: t('common.actions'),
      dataIndex: 'model',
      key: 'actions',
      render: (_: string, p: Price) => (
        <span className="actions">
          <Button size="small" onClick={() => edit(p)}>
            {t('common.edit')}
          </Button>
          <Popconfirm title={t('common.delete')} content={t('common.confirmDelete', { name: p.model })} okText={t('common.delete')} cancelText={t('common.cancel')} onConfirm={() => remove.mutate(p.model)}>
            <Button size="small" type="danger">
              {t('common.delete')}
            </Button>
          </Popconfirm>
        </span>
      ),
    },
  ];

  return (
    <section>
      <PageHeader title={t('admin.prices')} />
      <div className="card">
        <Typography.Title heading={4}>{t('admin.setPrice')}</Typography.Title>
        <form className="form grid" onSubmit={submit}>
          <Field id="price-model" label={t('admin.priceModel')}>
            <Input id="price-model" value={form.model} onChange={set('model')} />
          </Field>
          <Field id="price-input" label={t('admin.priceInput')}>
            <Input id="price-input" inputMode="decimal" value={form.input} onChange={set('input')} />
          </Field>
          <Field id="price-output" label={t('admin.priceOutput')}>
            <Input id="price-output" inputMode="decimal" value={form.output} onChange={set('output')} />
          </Field>
          {OPTIONAL.map((k) => (
            <Field key={k} id={`price-${k}`} label={t(OPTIONAL_LABELS[k])}>
              <Input id={`price-${k}`} inputMode="decimal" value={form[k]} onChange={set(k)} />
            </Field>
          ))}
          <Field id="price-per-request" label={t('admin.pricePerRequest')}>
            <Input id="price-per-request" inputMode="decimal" value={form.perRequest} onChange={set('perRequest')} />
          </Field>
          <Field id="price-max-output" label={t('admin.maxOutput')}>
            <Input id="price-max-output" inputMode="numeric" value={form.maxOutputTokens} onChange={set('maxOutputTokens')} />
          </Field>
          <div className="form-actions">
            <ErrorBanner error={error} />
            <Button htmlType="submit" theme="solid" type="primary" loading={busy}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </div>
      <ErrorBanner error={prices.error} />
      <div className="card">
        <DataTable label={t('admin.prices')} rowKey="model" columns={columns} data={prices.data?.items ?? []} loading={prices.isPending} minWidth={900} />
      </div>
    </section>
  );
}
