import { Button, Popconfirm, Space } from '@douyinfe/semi-ui';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/index.tsx';
import { DataTable, type DataTableProps } from './DataTable.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { PageHeader } from './PageHeader.tsx';

type TableProps<T extends object> = Omit<DataTableProps<T>, 'label'>;

/**
 * The layout of a list page: the title (with an add button), an optional filter bar, the query's
 * error, and the table in a card (the title labels its scroll region). `children` are the page's
 * dialogs.
 */
export function TablePage<T extends object>({
  title,
  add,
  filters,
  error,
  intro,
  table,
  children,
}: {
  title: string;
  add?: { label: string; onClick(): void };
  filters?: ReactNode;
  error: unknown;
  intro?: ReactNode;
  table: TableProps<T>;
  children?: ReactNode;
}) {
  return (
    <section>
      <PageHeader
        title={title}
        actions={
          add && (
            <Button theme="solid" type="primary" onClick={add.onClick}>
              {add.label}
            </Button>
          )
        }
      />
      {filters}
      <ErrorBanner error={error} />
      <div className="card">
        {intro}
        <DataTable<T> label={title} {...table} />
      </div>
      {children}
    </section>
  );
}

/** A filter form above a table: its inputs, then Search, which calls onSearch. */
export function FilterBar({ onSearch, children }: { onSearch(): void; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <form
      className="card filters"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch();
      }}
    >
      {children}
      <Button htmlType="submit" theme="solid">
        {t('common.search')}
      </Button>
    </form>
  );
}

/** A row's Edit and Delete (asked again first); `children` go between them. */
export function EditDeleteActions({ name, onEdit, onDelete, children }: { name: string; onEdit(): void; onDelete(): void; children?: ReactNode }) {
  const { t } = useI18n();
  return (
    <Space>
      <Button size="small" onClick={onEdit}>
        {t('common.edit')}
      </Button>
      {children}
      <Popconfirm title={t('common.delete')} content={t('common.confirmDelete', { name })} okText={t('common.delete')} cancelText={t('common.cancel')} onConfirm={onDelete}>
        <Button size="small" type="danger">
          {t('common.delete')}
        </Button>
      </Popconfirm>
    </Space>
  );
}
