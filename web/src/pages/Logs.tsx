import { Button, Input, Modal, Tag, Toast, Tooltip, Typography } from '@douyinfe/semi-ui';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { ErrorBanner, errorMessage } from '../components/ErrorBanner.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { NativeSelect } from '../components/NativeSelect.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { download, toCsv } from '../lib/csv.ts';
import { formatDate, formatMs } from '../lib/format.ts';

type Row = Schemas['UsageLog'];
interface Filter {
  from?: string;
  to?: string;
  keyId?: number;
  model?: string;
}
const PAGE_SIZE = 20;

async function fetchPage(filter: Filter, page: number, pageSize: number) {
  return unwrap(api.GET('/api/logs', { params: { query: { ...filter, page, pageSize } } }));
}

/** Server-paginated usage logs. The API has no CSV endpoint: export fetches every page of the filter. */
export default function Logs() {
  const { t, locale } = useI18n();
  const [draft, setDraft] = useState<{ from: string; to: string; keyId?: number; model: string }>({ from: '', to: '', model: '' });
  const [filter, setFilter] = useState<Filter>({});
  const [page, setPage] = useState(1);
  const [detail, setDetail] = useState<Row | null>(null);
  const [exporting, setExporting] = useState(false);
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => unwrap(api.GET('/api/keys')) });
  const logs = useQuery({ queryKey: ['logs', filter, page], queryFn: () => fetchPage(filter, page, PAGE_SIZE), placeholderData: keepPreviousData });

  const apply = () => {
    // Days in local time; the end day is included (up to the start of the next day).
    const from = draft.from ? new Date(`${draft.from}T00:00:00`) : undefined;
    const end = draft.to ? new Date(new Date(`${draft.to}T00:00:00`).getTime() + 86_400_000) : undefined;
    setFilter({ ...(from ? { from: from.toISOString() } : {}), ...(end ? { to: end.toISOString() } : {}), ...(draft.keyId ? { keyId: draft.keyId } : {}), ...(draft.model.trim() ? { model: draft.model.trim() } : {}) });
    setPage(1);
  };
  const reset = () => {
    setDraft({ from: '', to: '', model: '' });
    setFilter({});
    setPage(1);
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      const rows: Row[] = [];
      for (let p = 1; ; p++) {
        const res = await fetchPage(filter, p, 200);
        rows.push(...res.items);
        if (rows.length >= res.total || res.items.length === 0) break;
      }
      const header = ['time', 'request_id', 'key', 'model', 'group', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd', 'cost_points', 'duration_ms', 'first_token_ms', 'stream', 'status', 'estimated', 'error'];
      const body = rows.map((r) => [r.createdAt, r.requestId, r.keyName, r.model, r.group, r.promptTokens, r.completionTokens, r.cachedTokens, r.cost.usd, r.cost.quota, r.durationMs, r.firstTokenMs, r.stream, r.status, r.estimated, r.error]);
      download(`usage-${new Date().toISOString().slice(0, 10)}.csv`, toCsv(header, body));
    } catch (err) {
      Toast.error(errorMessage(err));
    } finally {
      setExporting(false);
    }
  };

  const columns = [
    { title: t('common.time'), dataIndex: 'createdAt', render: (v: string) => formatDate(v, locale) },
    { title: t('logs.key'), dataIndex: 'keyName' },
    { title: t('common.model'), dataIndex: 'model' },
    {
      title: t('logs.tokens'),
      dataIndex: 'promptTokens',
      render: (_: number, r: Row) => (
        <span>
          {r.promptTokens} / {r.completionTokens}
          {r.estimated && (
            <Tooltip content={t('logs.estimatedHint')}>
              <Tag size="small" color="amber" style={{ marginLeft: 4 }}>
                {t('logs.estimated')}
              </Tag>
            </Tooltip>
          )}
        </span>
      ),
    },
    { title: t('logs.cost'), dataIndex: 'cost', render: (v: Row['cost']) => <MoneyText value={v} /> },
    { title: t('logs.duration'), dataIndex: 'durationMs', render: (v: number) => formatMs(v) },
    { title: t('logs.firstToken'), dataIndex: 'firstTokenMs', render: (v: number | null) => formatMs(v) },
    { title: t('logs.stream'), dataIndex: 'stream', render: (v: boolean) => (v ? t('common.yes') : t('common.no')) },
    { title: t('common.status'), dataIndex: 'status', render: (v: number) => <Tag color={v < 400 ? 'green' : 'red'}>{v}</Tag> },
    {
      title: t('common.actions'),
      dataIndex: 'id',
      render: (_: number, r: Row) => (
        <Button size="small" theme="borderless" onClick={() => setDetail(r)} aria-label={t('logs.detail', { id: r.requestId })}>
          …
        </Button>
      ),
    },
  ];

  return (
    <section>
      <PageHeader
        title={t('logs.title')}
        actions={
          <Tooltip content={t('logs.exportNote')}>
            <Button onClick={exportCsv} loading={exporting}>
              {t('logs.export')}
            </Button>
          </Tooltip>
        }
      />
      <div className="card filters">
        <input type="date" className="native-date" aria-label={t('logs.from')} value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <input type="date" className="native-date" aria-label={t('logs.to')} value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <NativeSelect label={t('logs.key')} placeholder={t('logs.anyKey')} value={draft.keyId} onChange={(v) => setDraft({ ...draft, keyId: v })} options={(keys.data?.items ?? []).map((k) => ({ value: k.id, label: k.name }))} />
        <Input aria-label={t('logs.modelFilter')} placeholder={t('logs.modelFilter')} value={draft.model} onChange={(v) => setDraft({ ...draft, model: v })} onEnterPress={apply} style={{ width: 200 }} />
        <Button theme="solid" onClick={apply}>
          {t('logs.apply')}
        </Button>
        <Button onClick={reset}>{t('logs.reset')}</Button>
      </div>
      <ErrorBanner error={logs.error} />
      <div className="card">
        <DataTable label={t('logs.title')} rowKey="id" columns={columns} data={logs.data?.items ?? []} loading={logs.isFetching} minWidth={1000} paging={{ page, pageSize: PAGE_SIZE, total: logs.data?.total ?? 0, onPageChange: setPage }} />
      </div>
      {detail && (
        <Modal visible title={t('logs.detail', { id: detail.requestId })} onCancel={() => setDetail(null)} footer={<Button onClick={() => setDetail(null)}>{t('common.close')}</Button>}>
          <dl className="detail">
            <dt>{t('common.time')}</dt>
            <dd>{formatDate(detail.createdAt, locale)}</dd>
            <dt>{t('common.group')}</dt>
            <dd>{detail.group}</dd>
            <dt>{t('logs.channel')}</dt>
            <dd>{detail.channelName ?? '—'}</dd>
            <dt>{t('logs.cached')}</dt>
            <dd>{detail.cachedTokens}</dd>
            <dt>{t('logs.cost')}</dt>
            <dd>
              <MoneyText value={detail.cost} />
            </dd>
            <dt>{t('logs.errorText')}</dt>
            <dd>
              <Typography.Text>{detail.error ?? '—'}</Typography.Text>
            </dd>
          </dl>
        </Modal>
      )}
    </section>
  );
}
