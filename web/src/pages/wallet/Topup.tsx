// Top up: a tier (bonus and price shown before paying) or a custom amount, a payment method by the
// name users know, then the order panel with how to pay and the live status.
import { Button, Tag, Typography } from '@douyinfe/semi-ui';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, ApiFailure, unwrap } from '../../api/client.ts';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatUsd } from '../../lib/money.ts';
import { useChoiceLabel, useTopupOptions } from './hooks.ts';
import { methodChoices } from './methods.ts';
import { cnyFor, compareUsd, formatPay, usdInput } from './money.ts';
import { OrderPanel } from './OrderPanel.tsx';

export function Topup() {
  const { t } = useI18n();
  const options = useTopupOptions();
  const label = useChoiceLabel();
  const [params, setParams] = useSearchParams();
  const [tier, setTier] = useState<string | null>(null);
  const [custom, setCustom] = useState('');
  const [choiceId, setChoiceId] = useState<string | null>(null);
  const [error, setError] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // The provider sends the user back to /wallet?order=…: that order's status is shown at once.
  const active = params.get('order');
  const setActive = (orderNo: string | null) =>
    setParams(
      (p) => {
        if (orderNo) p.set('order', orderNo);
        else p.delete('order');
        return p;
      },
      { replace: true },
    );

  const o = options.data;
  const choices = o ? methodChoices(o.methods) : [];
  const choice = choices.find((c) => c.id === choiceId) ?? choices[0];
  const amount = custom.trim() ? usdInput(custom) : tier ?? o?.tiers[0]?.usd ?? null;
  const price = amount && o && choice ? (choice.currency === 'USD' ? formatUsd(amount) : formatPay(cnyFor(amount, o.cnyPerUsd) ?? '', 'CNY')) : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!o || !choice) return;
    if (amount === null) return setError({ field: 'amount', message: t('wallet.topup.badAmount') });
    if (compareUsd(amount, o.minTopupUsd) < 0) return setError({ field: 'amount', message: t('wallet.topup.tooSmall', { min: formatUsd(o.minTopupUsd) }) });
    if (compareUsd(amount, o.maxTopupUsd) > 0) return setError({ field: 'amount', message: t('wallet.topup.tooLarge', { max: formatUsd(o.maxTopupUsd) }) });
    setError(null);
    setBusy(true);
    try {
      const order = await unwrap(api.POST('/api/wallet/topup', { body: { amount, method: choice.method, ...(choice.channel ? { channel: choice.channel } : {}) } }));
      setActive(order.orderNo);
    } catch (err) {
      const issue = err instanceof ApiFailure ? (err.details.issues as { path?: unknown[] }[] | undefined)?.[0] : undefined;
      setError({ field: String(issue?.path?.[0] ?? 'form'), message: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" id="topup">
      <Typography.Title heading={4}>{t('wallet.topup.title')}</Typography.Title>
      <ErrorBanner error={options.error} />
      {active && <OrderPanel orderNo={active} onClose={() => setActive(null)} />}
      {o && choices.length === 0 && <Typography.Paragraph type="secondary">{t('wallet.topup.noMethods')}</Typography.Paragraph>}
      {o && choices.length > 0 && (
        <form className="topup-form" onSubmit={submit} noValidate>
          <fieldset className="fieldset">
            <legend className="field-label">{t('wallet.topup.amount')}</legend>
            <div className="tiers">
              {o.tiers.map((tr) => {
                const checked = !custom.trim() && (tier ?? o.tiers[0]?.usd) === tr.usd;
                return (
                  <label key={tr.usd} className={checked ? 'tier checked' : 'tier'}>
                    <input
                      type="radio"
                      name="tier"
                      value={tr.usd}
                      checked={checked}
                      onChange={() => {
                        setTier(tr.usd);
                        setCustom('');
                        setError(null);
                      }}
                    />
                    <span className="tier-usd">{formatUsd(tr.usd)}</span>
                    <span className="tier-price">{choice?.currency === 'USD' ? formatUsd(tr.usd) : formatPay(cnyFor(tr.usd, o.cnyPerUsd) ?? '', 'CNY')}</span>
                    {tr.bonus.quota > 0 ? (
                      <span className="tier-bonus">
                        + <MoneyText value={tr.bonus} hidePoints /> {t('wallet.topup.bonus')}
                      </span>
                    ) : (
                      <span className="tier-bonus none">{t('wallet.topup.noBonus')}</span>
                    )}
                  </label>
                );
              })}
            </div>
          </fieldset>
          <div className="field">
            <label htmlFor="topup-custom" className="field-label">
              {t('wallet.topup.custom')}
            </label>
            <input
              id="topup-custom"
              className="text-input"
              inputMode="decimal"
              value={custom}
              placeholder={t('wallet.topup.customPlaceholder', { min: formatUsd(o.minTopupUsd) })}
              aria-invalid={error?.field === 'amount'}
              aria-describedby="topup-custom-hint"
              onChange={(e) => {
                setCustom(e.target.value);
                setError(null);
              }}
            />
            <div id="topup-custom-hint" className={error?.field === 'amount' ? 'field-error' : 'field-hint'} role={error?.field === 'amount' ? 'alert' : undefined}>
              {error?.field === 'amount' ? error.message : t('wallet.topup.limits', { min: formatUsd(o.minTopupUsd), max: formatUsd(o.maxTopupUsd), rate: o.cnyPerUsd })}
            </div>
          </div>
          <fieldset className="fieldset">
            <legend className="field-label">{t('wallet.topup.method')}</legend>
            <div className="methods">
              {choices.map((c) => (
                <label key={c.id} className={c.id === choice?.id ? 'method checked' : 'method'}>
                  <input type="radio" name="method" value={c.id} checked={c.id === choice?.id} onChange={() => setChoiceId(c.id)} />
                  <span>{label(c)}</span>
                  {c.sandbox && <Tag color="red">{t('wallet.sandboxBadge')}</Tag>}
                </label>
              ))}
            </div>
            {choice?.sandbox && <div className="field-hint">{t('wallet.topup.sandboxHint')}</div>}
            {error?.field === 'method' || error?.field === 'channel' ? (
              <div className="field-error" role="alert">
                {error.message}
              </div>
            ) : null}
          </fieldset>
          <div className="topup-submit">
            <div>
              <span className="muted">{t('wallet.topup.youPay')}</span> <strong data-testid="topup-price">{price ?? '—'}</strong>
            </div>
            <Button htmlType="submit" theme="solid" loading={busy}>
              {t('wallet.topup.pay')}
            </Button>
          </div>
          {error && !['amount', 'method', 'channel'].includes(error.field) && (
            <div className="field-error" role="alert">
              {error.message}
            </div>
          )}
        </form>
      )}
    </div>
  );
}
