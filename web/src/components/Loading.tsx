import { Spin } from '@douyinfe/semi-ui';

export function Loading() {
  return (
    <div className="loading" role="status" aria-live="polite">
      <Spin size="large" />
    </div>
  );
}
