import { Banner } from '@douyinfe/semi-ui';
import { ApiFailure } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';

/** A failed load or action, with the server's message. */
export function ErrorBanner({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  const message = error instanceof ApiFailure || error instanceof Error ? error.message : String(error);
  return (
    <div role="alert">
      <Banner type="danger" fullMode={false} closeIcon={null} title={t('common.error')} description={message} />
    </div>
  );
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
