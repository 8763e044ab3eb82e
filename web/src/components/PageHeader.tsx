import { Typography } from '@douyinfe/semi-ui';
import type { ReactNode } from 'react';

export function PageHeader({ title, actions }: { title: string; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <Typography.Title heading={2}>{title}</Typography.Title>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function Stat({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{children}</div>
    </div>
  );
}
