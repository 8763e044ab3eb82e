import { Button, Input, InputNumber, Toast, Typography } from '@douyinfe/semi-ui';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiFailure, api, fieldError, unwrap, type Schemas } from '../../../api/client.ts';
import { ErrorBanner } from '../../../components/ErrorBanner.tsx';
import { Field } from '../../../components/Field.tsx';
import { NativeSelect } from '../../../components/NativeSelect.tsx';
import { useI18n } from '../../../i18n/index.tsx';
import { usdToPoints } from '../../../lib/money.ts';
import { pointsToUsdInput } from '../../../lib/usd-input.ts';

type Settings = Schemas['Settings'];
const DECIMAL = /^\d+(\.\d{1,6})?$/;

/** Money settings are typed in USD and sent as integer points; the server checks every field again. */
export function GeneralSettings({ settings, groups }: { settings: Settings; groups: string[] }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [f, setF] = useState({
    siteName: settings.siteName,
    publicBaseUrl: settings.publicBaseUrl,
    registrationEnabled: settings.registrationEnabled,
    emailVerificationRequired: settings.emailVerificationRequired,
    allowPrivateWebhooks: settings.allowPrivateWebhooks,
    defaultGroup: settings.defaultGroup,
    trial: pointsToUsdInput(settings.trialQuota),
    referralReward: pointsToUsdInput(settings.referralRewardQuota),
    referralRebatePercent: settings.referralRebatePercent,
    alertThreshold: pointsToUsdInput(settings.alertThresholdQuota),
    tiers: settings.topupTiers.map((x) => ({ usd: x.usd, bonus: pointsToUsdInput(x.bonusQuota) })),
    minTopupUsd: settings.minTopupUsd,
    maxTopupUsd: settings.maxTopupUsd,
    cnyPerUsd: settings.cnyPerUsd,
    orderExpiryMinutes: settings.orderExpiryMinutes,
    invoiceDelayDays: settings.invoiceDelayDays,
  });
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof typeof f>(k: K) => (v: (typeof f)[K]) => setF((old) => ({ ...old, [k]: v }));

  const points = { trial: usdToPoints(f.trial), referralReward: usdToPoints(f.referralReward), alertThreshold: usdToPoints(f.alertThreshold) };
  const tierPoints = f.tiers.map((x) => ({ usdOk: DECIMAL.test(x.usd.trim()) && Number(x.usd) > 0, bonus: usdToPoints(x.bonus) }));
  const local = {
    siteName: !f.siteName.trim() ? t('p.notify.required') : undefined,
    trial: points.trial === null || points.trial < 0 ? t('keys.invalidAmount') : undefined,
    referralReward: points.referralReward === null || points.referralReward < 0 ? t('keys.invalidAmount') : undefined,
    alertThreshold: points.alertThreshold === null || points.alertThreshold < 0 ? t('keys.invalidAmount') : undefined,
    tiers: tierPoints.some((x) => !x.usdOk || x.bonus === null || x.bonus < 0) ? t('p.set.tiersRule') : undefined,
    minTopupUsd: DECIMAL.test(f.minTopupUsd.trim()) ? undefined : t('keys.invalidAmount'),
    maxTopupUsd: DECIMAL.test(f.maxTopupUsd.trim()) ? undefined : t('keys.invalidAmount'),
    cnyPerUsd: DECIMAL.test(f.cnyPerUsd.trim()) && Number(f.cnyPerUsd) > 0 ? undefined : t('keys.invalidAmount'),
  };
  const err = (k: keyof typeof local, server: string) => (touched ? local[k] : undefined) ?? fieldError(error, server);
  const tiersServerError = error instanceof ApiFailure ? error.issues.find((i) => i.path[0] === 'topupTiers')?.message : undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.values(local).some(Boolean)) return;
    setBusy(true);
    setError(null);
    try {
      const saved = await unwrap(
        api.PATCH('/api/admin/settings', {
          body: {
            siteName: f.siteName.trim(),
            publicBaseUrl: f.publicBaseUrl.trim(),
            registrationEnabled: f.registrationEnabled,
            emailVerificationRequired: f.emailVerificationRequired,
            allowPrivateWebhooks: f.allowPrivateWebhooks,
            defaultGroup: f.defaultGroup,
            trialQuota: points.trial!,
            referralRewardQuota: points.referralReward!,
            referralRebatePercent: f.referralRebatePercent,
            alertThresholdQuota: points.alertThreshold!,
            topupTiers: f.tiers.map((x, i) => ({ usd: x.usd.trim(), bonusQuota: tierPoints[i]!.bonus! })),
            minTopupUsd: f.minTopupUsd.trim(),
            maxTopupUsd: f.maxTopupUsd.trim(),
            cnyPerUsd: f.cnyPerUsd.trim(),
            orderExpiryMinutes: f.orderExpiryMinutes,
            invoiceDelayDays: f.invoiceDelayDays,
          },
        }),
      );
      queryClient.setQueryData(['admin', 'settings'], saved);
      await queryClient.invalidateQueries({ queryKey: ['status'] });
      setTouched(false);
      Toast.success(t('common.saved'));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const check = (k: 'registrationEnabled' | 'emailVerificationRequired' | 'allowPrivateWebhooks', label: string) => (
    <label className="check">
      <input type="checkbox" checked={f[k]} onChange={(e) => set(k)(e.target.checked)} /> {label}
    </label>
  );
  const usdField = (id: string, k: 'trial' | 'referralReward' | 'alertThreshold', server: string, label: string, hint?: string) => (
    <Field id={id} label={label} hint={hint} error={err(k, server)}>
      <Input id={id} inputMode="decimal" prefix="$" value={f[k]} onChange={set(k)} validateStatus={err(k, server) ? 'error' : 'default'} />
    </Field>
  );

  return (
    <form className="card" onSubmit={submit} noValidate data-testid="general-settings">
      <Typography.Title heading={4} className="section-title">
        {t('p.set.general')}
      </Typography.Title>
      <div className="form grid2">
        <Field id="set-site-name" label={t('p.set.siteName')} error={err('siteName', 'siteName')}>
          <Input id="set-site-name" value={f.siteName} onChange={set('siteName')} maxLength={64} validateStatus={err('siteName', 'siteName') ? 'error' : 'default'} />
        </Field>
        <Field id="set-base-url" label={t('p.set.publicBaseUrl')} hint={t('p.set.publicBaseUrlHint')} error={fieldError(error, 'publicBaseUrl')}>
          <Input id="set-base-url" value={f.publicBaseUrl} onChange={set('publicBaseUrl')} placeholder="https://api.example.com" />
        </Field>
        <Field id="set-default-group" label={t('p.set.defaultGroup')} error={fieldError(error, 'defaultGroup')}>
          <NativeSelect id="set-default-group" value={f.defaultGroup} options={groups.map((g) => ({ value: g, label: g }))} onChange={(v) => set('defaultGroup')(v ?? f.defaultGroup)} />
        </Field>
        <div className="fieldset">
          {check('registrationEnabled', t('p.set.registration'))}
          {check('emailVerificationRequired', t('p.set.emailVerification'))}
          {fieldError(error, 'emailVerificationRequired') && <div className="field-error">{fieldError(error, 'emailVerificationRequired')}</div>}
          {check('allowPrivateWebhooks', t('p.set.privateWebhooks'))}
        </div>
        {usdField('set-trial', 'trial', 'trialQuota', t('p.set.trial'), points.trial !== null ? t('common.points', { n: points.trial.toLocaleString() }) : undefined)}
        {usdField('set-referral', 'referralReward', 'referralRewardQuota', t('p.set.referralReward'), t('p.set.referralRewardHint'))}
        <Field id="set-rebate" label={t('p.set.rebate')} hint="0–100 %" error={fieldError(error, 'referralRebatePercent')}>
          <InputNumber id="set-rebate" min={0} max={100} value={f.referralRebatePercent} onChange={(v) => set('referralRebatePercent')(Number(v) || 0)} suffix="%" />
        </Field>
        {usdField('set-alert', 'alertThreshold', 'alertThresholdQuota', t('p.set.alertThreshold'), t('p.set.alertThresholdHint'))}
      </div>

      <Typography.Title heading={5} className="section-title">
        {t('p.set.topup')}
      </Typography.Title>
      <fieldset className="fieldset">
        <legend className="field-label">{t('p.set.tiers')}</legend>
        {f.tiers.map((tier, i) => (
          <div className="tier-row" key={i}>
            <Field id={`tier-usd-${i}`} label={t('p.set.tierUsd', { n: i + 1 })}>
              <Input id={`tier-usd-${i}`} inputMode="decimal" prefix="$" value={tier.usd} onChange={(v) => set('tiers')(f.tiers.map((x, j) => (j === i ? { ...x, usd: v } : x)))} />
            </Field>
            <Field id={`tier-bonus-${i}`} label={t('p.set.tierBonus', { n: i + 1 })}>
              <Input id={`tier-bonus-${i}`} inputMode="decimal" prefix="$" value={tier.bonus} onChange={(v) => set('tiers')(f.tiers.map((x, j) => (j === i ? { ...x, bonus: v } : x)))} />
            </Field>
            <Button type="danger" aria-label={t('p.set.removeTier', { n: i + 1 })} onClick={() => set('tiers')(f.tiers.filter((_, j) => j !== i))}>
              {t('common.delete')}
            </Button>
          </div>
        ))}
        <div>
          <Button onClick={() => set('tiers')([...f.tiers, { usd: '', bonus: '0' }])}>{t('p.set.addTier')}</Button>
        </div>
        {((touched && local.tiers) || tiersServerError) && (
          <div className="field-error" role="alert">
            {(touched && local.tiers) || tiersServerError}
          </div>
        )}
      </fieldset>
      <div className="form grid2">
        <Field id="set-min" label={t('p.set.minTopup')} error={err('minTopupUsd', 'minTopupUsd')}>
          <Input id="set-min" inputMode="decimal" prefix="$" value={f.minTopupUsd} onChange={set('minTopupUsd')} />
        </Field>
        <Field id="set-max" label={t('p.set.maxTopup')} error={err('maxTopupUsd', 'maxTopupUsd')}>
          <Input id="set-max" inputMode="decimal" prefix="$" value={f.maxTopupUsd} onChange={set('maxTopupUsd')} />
        </Field>
        <Field id="set-cny" label={t('p.set.cnyPerUsd')} error={err('cnyPerUsd', 'cnyPerUsd')}>
          <Input id="set-cny" inputMode="decimal" prefix="¥" value={f.cnyPerUsd} onChange={set('cnyPerUsd')} />
        </Field>
        <Field id="set-expiry" label={t('p.set.orderExpiry')} error={fieldError(error, 'orderExpiryMinutes')}>
          <InputNumber id="set-expiry" min={1} value={f.orderExpiryMinutes} onChange={(v) => set('orderExpiryMinutes')(Number(v) || 0)} />
        </Field>
        <Field id="set-invoice-delay" label={t('p.set.invoiceDelay')} error={fieldError(error, 'invoiceDelayDays')}>
          <InputNumber id="set-invoice-delay" min={0} value={f.invoiceDelayDays} onChange={(v) => set('invoiceDelayDays')(Number(v) || 0)} />
        </Field>
      </div>
      <div className="form-actions">
        <ErrorBanner error={error} />
        <Button htmlType="submit" theme="solid" type="primary" loading={busy}>
          {t('common.save')}
        </Button>
      </div>
    </form>
  );
}
