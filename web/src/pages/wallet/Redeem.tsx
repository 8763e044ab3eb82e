// Redeem a redemption code: the server's refusal (unknown, used, expired, too many tries) is shown
// under the box; a success says what was credited.
import { Button, Typography } from '@douyinfe/semi-ui';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap, type Money } from '../../api/client.ts';
import { MoneyText } from '../../components/MoneyText.tsx';
import { useI18n } from '../../i18n/index.tsx';

export function Redeem() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [credited, setCredited] = useState<Money | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setCredited(null);
    if (!code.trim()) return setError(t('wallet.redeem.empty'));
    setBusy(true);
    try {
      const r = await unwrap(api.POST('/api/wallet/redeem', { body: { code } }));
      setError(null);
      setCredited(r.credited);
      setCode('');
      await queryClient.invalidateQueries({ queryKey: ['wallet'] });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" id="redeem">
      <Typography.Title heading={4}>{t('wallet.redeem.title')}</Typography.Title>
      <form className="inline-form" onSubmit={submit} noValidate>
        <div className="field grow">
          <label htmlFor="redeem-code" className="field-label">
            {t('wallet.redeem.code')}
          </label>
          <input
            id="redeem-code"
            className="text-input mono"
            autoComplete="off"
            spellCheck={false}
            value={code}
            placeholder="XXXXX-XXXXX-XXXXX-XXXXX"
            aria-invalid={error !== null}
            aria-describedby="redeem-hint"
            onChange={(e) => {
              setCode(e.target.value);
              setError(null);
            }}
          />
          <div id="redeem-hint" className={error ? 'field-error' : 'field-hint'} role={error ? 'alert' : undefined}>
            {error ?? t('wallet.redeem.hint')}
          </div>
        </div>
        <Button htmlType="submit" theme="solid" loading={busy}>
          {t('wallet.redeem.submit')}
        </Button>
      </form>
      {credited && (
        <p className="success-line" role="status" data-testid="redeem-result">
          {t('wallet.redeem.credited')} <MoneyText value={credited} />
        </p>
      )}
    </div>
  );
}
