import { Button, Modal } from '@douyinfe/semi-ui';
import { useState, type ReactNode } from 'react';
import { useI18n } from '../i18n/index.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';

/**
 * A dialog's submit: busy while `action` runs, its error kept for the dialog to show (and to point at
 * fields with fieldError). Validation the dialog does itself goes before `run`.
 */
export function useSubmit() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

/** A modal form: the fields, the submit's error under them, Cancel and the submit button in the footer. */
export function FormDialog({
  title,
  submitLabel,
  submitType = 'primary',
  busy,
  error,
  onSubmit,
  onClose,
  children,
}: {
  title: string;
  submitLabel: string;
  submitType?: 'primary' | 'danger';
  busy: boolean;
  error: unknown;
  onSubmit(): void;
  onClose(): void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <Modal
      visible
      title={title}
      onCancel={onClose}
      footer={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button theme="solid" type={submitType} loading={busy} onClick={onSubmit}>
            {submitLabel}
          </Button>
        </>
      }
    >
      <div className="form">
        {children}
        <ErrorBanner error={error} />
      </div>
    </Modal>
  );
}
