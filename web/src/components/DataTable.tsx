import { Button, Table } from '@douyinfe/semi-ui';
import type { ColumnProps } from '@douyinfe/semi-ui/lib/es/table';
import { useI18n } from '../i18n/index.tsx';

interface Paging {
  page: number;
  pageSize: number;
  total: number;
  onPageChange(page: number): void;
}

export interface DataTableProps<T extends object> {
  label: string;
  columns: ColumnProps<T>[];
  data: T[];
  loading?: boolean;
  rowKey: string;
  paging?: Paging;
  minWidth?: number;
}

/**
 * Semi's table in a keyboard-scrollable region (wide tables scroll sideways on phones), with a
 * simple pager: Semi's own pagination markup fails axe's list rule.
 */
export function DataTable<T extends object>({ label, columns, data, loading, rowKey, paging, minWidth }: DataTableProps<T>) {
  const { t } = useI18n();
  const pages = paging ? Math.max(1, Math.ceil(paging.total / paging.pageSize)) : 1;
  return (
    <>
      <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
        <div style={{ minWidth }}>
          <Table<T> rowKey={rowKey} columns={columns} dataSource={data} loading={loading} pagination={false} empty={t('common.empty')} size="small" />
        </div>
      </div>
      {paging && paging.total > paging.pageSize && (
        <nav className="pager" aria-label={t('pager.label')}>
          <Button size="small" disabled={paging.page <= 1} onClick={() => paging.onPageChange(paging.page - 1)}>
            {t('pager.prev')}
          </Button>
          <span>{t('pager.status', { page: paging.page, pages, total: paging.total })}</span>
          <Button size="small" disabled={paging.page >= pages} onClick={() => paging.onPageChange(paging.page + 1)}>
            {t('pager.next')}
          </Button>
        </nav>
      )}
    </>
  );
}
