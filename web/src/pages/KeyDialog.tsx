import { Input, Radio, RadioGroup, TextArea } from '@douyinfe/semi-ui';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { Field } from '../components/Field.tsx';
import { FormDialog, useSubmit } from '../components/FormDialog.tsx';
import { NativeSelect } from '../components/NativeSelect.tsx';
import { useI18n } from '../i18n/index.tsx';
import { splitList } from '../lib/format.ts';
import { usdToPoints } from '../lib/money.ts';

type Expiry = 'never' | '1d' | '7d' | '30d' | '90d' | 'date';
const DAYS: Partial<Record<Expiry, number>> = { '1d': 1, '7d': 7, '30d': 30, '90d': 90 };

function toDateInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export type KeyBody = { name: string; group?: string; expiresAt: string | null; quotaLimit: number | null; models: string[]; allowIps: string[] };

/** Add Token / edit: name, group, expiry, quota, model restriction and IP allow-list. */
export function KeyDialog({ existing, onClose, onSubmit }: { existing?: Schemas['Key']; onClose(): void; onSubmit(body: KeyBody): Promise<void> }) {
  const { t } = useI18n();
  const pricing = useQuery({ queryKey: ['pricing'], queryFn: () => unwrap(api.GET('/api/pricing')) });
  const [name, setName] = useState(existing?.name ?? '');
  const [group, setGroup] = useState<string | undefined>(existing?.group);
  const [expiry, setExpiry] = useState<Expiry>(existing?.expiresAt ? 'date' : 'never');
  // yyyy-mm-dd from <input type="date">; the key expires at the end of that day, local time.
  const [date, setDate] = useState(existing?.expiresAt ? toDateInput(new Date(existing.expiresAt)) : '');
  const [limited, setLimited] = useState(Boolean(existing?.quotaLimit));
  const [amount, setAmount] = useState(existing?.quotaLimit ? existing.quotaLimit.usd.replace(/\.?0+$/, '') : '');
  const [models, setModels] = useState<string[]>(existing?.models ?? []);
  const [ips, setIps] = useState((existing?.allowIps ?? []).join('\n'));
  const [touched, setTouched] = useState(false);
  const { error, busy, run } = useSubmit();

  const points = limited ? usdToPoints(amount) : null;
  const nameError = touched && !name.trim() ? t('keys.nameRequired') : undefined;
  const amountError = touched && limited && (points === null || points < 0) ? t('keys.invalidAmount') : undefined;

  const expiresAt = (): string | null => {
    if (expiry === 'never') return null;
    if (expiry === 'date') return date ? new Date(`${date}T23:59:59`).toISOString() : null;
    return new Date(Date.now() + DAYS[expiry]! * 86_400_000).toISOString();
  };

  const submit = async () => {
    setTouched(true);
    if (!name.trim() || (limited && (points === null || points < 0))) return;
    await run(() => onSubmit({ name: name.trim(), ...(group ? { group } : {}), expiresAt: expiresAt(), quotaLimit: limited ? points : null, models, allowIps: splitList(ips) }));
  };

  const groups = pricing.data?.groups ?? [];
  const modelOptions = (pricing.data?.items ?? []).map((m) => ({ value: m.model, label: m.model }));

  return (
    <FormDialog title={existing ? t('keys.edit') : t('keys.add')} submitLabel={existing ? t('common.save') : t('common.create')} busy={busy} error={error} onSubmit={submit} onClose={onClose}>
      <Field id="key-name" label={t('common.name')} error={nameError}>
        <Input id="key-name" value={name} onChange={setName} maxLength={64} validateStatus={nameError ? 'error' : 'default'} />
      </Field>
      {groups.length > 0 && (
        <Field id="key-group" label={t('common.group')}>
          <NativeSelect<string> id="key-group" value={group} onChange={setGroup} options={groups.map((g) => ({ value: g.name, label: g.description ? `${g.name} — ${g.description}` : g.name }))} />
        </Field>
      )}
      <fieldset className="fieldset">
        <legend className="field-label">{t('keys.expiration')}</legend>
        <RadioGroup value={expiry} onChange={(e) => setExpiry(e.target.value as Expiry)} aria-label={t('keys.expiration')}>
          {(['never', '1d', '7d', '30d', '90d', 'date'] as const).map((v) => (
            <Radio key={v} value={v}>
              {t(`keys.exp.${v}`)}
            </Radio>
          ))}
        </RadioGroup>
        {expiry === 'date' && (
          <Field id="key-date" label={t('keys.expDate')}>
            <input id="key-date" className="native-date" type="date" min={toDateInput(new Date())} value={date} onChange={(e) => setDate(e.target.value)} />
          </Field>
        )}
      </fieldset>
      <fieldset className="fieldset">
        <legend className="field-label">{t('keys.quota')}</legend>
        <RadioGroup value={limited ? 'amount' : 'unlimited'} onChange={(e) => setLimited(e.target.value === 'amount')} aria-label={t('keys.quota')}>
          <Radio value="unlimited">{t('common.unlimited')}</Radio>
          <Radio value="amount">{t('keys.quotaAmount')}</Radio>
        </RadioGroup>
        {limited && (
          <Field id="key-amount" label={t('keys.quotaAmount')} hint={t('keys.quotaAmountHint')} error={amountError}>
            <Input id="key-amount" inputMode="decimal" prefix="$" value={amount} onChange={setAmount} validateStatus={amountError ? 'error' : 'default'} />
          </Field>
        )}
      </fieldset>
      <fieldset className="fieldset">
        <legend className="field-label">{t('keys.modelRestrict')}</legend>
        <div className="check-list">
          {modelOptions.map((m) => (
            <label key={m.value}>
              <input type="checkbox" checked={models.includes(m.value)} onChange={(e) => setModels(e.target.checked ? [...models, m.value] : models.filter((x) => x !== m.value))} />
              {m.label}
            </label>
          ))}
        </div>
      </fieldset>
      <Field id="key-ips" label={t('keys.ips')}>
        <TextArea id="key-ips" value={ips} onChange={setIps} rows={2} placeholder="203.0.113.7&#10;10.0.0.0/8" />
      </Field>
    </FormDialog>
  );
}
