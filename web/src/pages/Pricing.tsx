import { Input, Tag, Typography } from '@douyinfe/semi-ui';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { useMe } from '../api/session.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { NativeSelect } from '../components/NativeSelect.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { formatUsd } from '../lib/money.ts';

type Item = Schemas['Pricing']['items'][number];
type GroupPrice = Schemas['GroupPrice'];

export default function Pricing() {
  const { t } = useI18n();
  const me = useMe();
  const pricing = useQuery({ queryKey: ['pricing'], queryFn: () => unwrap(api.GET('/api/pricing')) });
  const [search, setSearch] = useState('');
  const [group, setGroup] = useState<string | undefined>();
  const [page, setPage] = useState(1);
  const [billing, setBilling] = useState<'all' | 'usage' | 'per_request'>('all');
  const shownGroup = group ?? me.data?.group ?? pricing.data?.groups[0]?.name;

  const rows = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (pricing.data?.items ?? []).filter((m) => (!q || m.model.toLowerCase().includes(q)) && (billing === 'all' || m.billing === billing));
  }, [pricing.data, search, billing]);
  const priceIn = (m: Item): GroupPrice | undefined => m.prices.find((p) => p.group === shownGroup);
  const usd = (v: string | null | undefined) => (v ? formatUsd(v) : '—');

  const columns = [
    { title: t('common.model'), dataIndex: 'model', render: (v: string) => <code>{v}</code> },
    { title: t('pricing.billing'), dataIndex: 'billing', render: (v: Item['billing']) => <Tag>{v === 'usage' ? t('pricing.usage') : t('pricing.perRequest')}</Tag> },
    {
      title: t('pricing.input'),
      dataIndex: 'input',
      render: (_: string, m: Item) => {
        const p = priceIn(m);
        if (!p) return t('pricing.notInGroup');
        return 'perMillionInput' in p.points ? <MoneyText value={p.points.perMillionInput} /> : '—';
      },
    },
    { title: t('pricing.output'), dataIndex: 'output', render: (_: string, m: Item) => { const p = priceIn(m); return p && 'perMillionOutput' in p.points ? <MoneyText value={p.points.perMillionOutput} /> : '—'; } },
    { title: t('pricing.cachedInput'), dataIndex: 'cachedInput', render: (_: string, m: Item) => { const p = priceIn(m); return p && m.billing === 'usage' ? usd(p.cachedInput) : '—'; } },
    { title: t('pricing.request'), dataIndex: 'perRequest', render: (_: string, m: Item) => { const p = priceIn(m); return p && 'perRequest' in p.points ? <MoneyText value={p.points.perRequest} /> : '—'; } },
    { title: t('common.group'), dataIndex: 'availableIn', render: (v: string[]) => v.join(', ') },
  ];
  const current = pricing.data?.groups.find((g) => g.name === shownGroup);
  const multiplier = pricing.data?.items[0]?.prices.find((p) => p.group === shownGroup)?.multiplier;

  return (
    <section>
      <PageHeader title={t('pricing.title')} />
      <ErrorBanner error={pricing.error} />
      <div className="card filters">
        <Input aria-label={t('pricing.searchModel')} placeholder={t('pricing.searchModel')} value={search} onChange={setSearch} showClear style={{ width: 220 }} />
        <NativeSelect<string> label={t('pricing.groupFilter')} value={shownGroup} onChange={setGroup} options={(pricing.data?.groups ?? []).map((g) => ({ value: g.name, label: g.name }))} />
        <NativeSelect<typeof billing>
          label={t('pricing.billing')}
          value={billing}
          onChange={(v) => setBilling(v ?? 'all')}
          options={[
            { value: 'all', label: t('common.all') },
            { value: 'usage', label: t('pricing.usage') },
            { value: 'per_request', label: t('pricing.perRequest') },
          ]}
        />
        {multiplier && <Tag color="blue">{t('pricing.multiplier', { m: multiplier })}</Tag>}
        {current?.description && <Typography.Text type="secondary">{current.description}</Typography.Text>}
      </div>
      <div className="card">
        <DataTable label={t('pricing.title')} rowKey="model" columns={columns} data={rows.slice((page - 1) * 20, page * 20)} loading={pricing.isPending} minWidth={900} paging={{ page, pageSize: 20, total: rows.length, onPageChange: setPage }} />
      </div>
    </section>
  );
}
