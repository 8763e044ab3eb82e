import { Button, Input, Switch, Tag, TextArea, Toast, Typography } from '@douyinfe/semi-ui';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiFailure, api, unwrap, type Schemas } from '../../../api/client.ts';
import { ErrorBanner } from '../../../components/ErrorBanner.tsx';
import { Field } from '../../../components/Field.tsx';
import { useI18n } from '../../../i18n/index.tsx';
import { methodLabel } from '../labels.ts';

type Provider = Schemas['PaymentProvider'];
type ProviderId = Provider['provider'];
interface Setting {
  name: string;
  secret?: boolean;
  optional?: boolean;
  multiline?: boolean;
  choices?: string[];
}

// Each provider's settings (src/wallet/provider-settings.ts); secrets are write-only.
const SETTINGS: Record<ProviderId, Setting[]> = {
  alipay: [{ name: 'appId' }, { name: 'privateKey', secret: true, multiline: true }, { name: 'alipayPublicKey', multiline: true }, { name: 'sellerId', optional: true }, { name: 'gateway', optional: true }, { name: 'mode', optional: true, choices: ['page', 'qr', 'auto'] }],
  lantu: [{ name: 'mchId' }, { name: 'key', secret: true }, { name: 'baseUrl', optional: true }, { name: 'timeExpire', optional: true }],
  epay: [{ name: 'baseUrl' }, { name: 'pid' }, { name: 'key', secret: true }, { name: 'signStyle', optional: true, choices: ['append', 'ampersand-key'] }, { name: 'mode', optional: true, choices: ['redirect', 'form', 'mapi'] }],
  stripe: [{ name: 'secretKey', secret: true }, { name: 'webhookSecret', secret: true }, { name: 'apiBase', optional: true }],
  transfer: [{ name: 'bankName' }, { name: 'accountName' }, { name: 'accountNo' }],
  sandbox: [],
};

function ProviderCard({ provider }: { provider: Provider }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const fields = SETTINGS[provider.provider];
  const shown = (name: string) => {
    const v = provider.config[name];
    return typeof v === 'string' && v !== '********' ? v : '';
  };
  const [enabled, setEnabled] = useState(provider.enabled);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((s) => [s.name, s.secret ? '' : shown(s.name)])));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idBase = `pp-${provider.provider}`;
  const issue = (name: string) => (error instanceof ApiFailure ? error.issues.find((i) => i.path.includes(name))?.message : undefined);

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      // Empty fields are left out: the stored value (a secret's too) is kept.
      const config = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));
      const saved = await unwrap(api.PUT('/api/admin/payment-providers/{provider}', { params: { path: { provider: provider.provider } }, body: { enabled, ...config } }));
      queryClient.setQueryData<{ items: Provider[] }>(['admin', 'providers'], (old) => old && { items: old.items.map((p) => (p.provider === saved.provider ? saved : p)) });
      setValues((v) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fields.find((s) => s.name === k)?.secret ? '' : x])));
      Toast.success(t('common.saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" data-testid={`provider-${provider.provider}`}>
      <div className="page-header">
        <Typography.Title heading={5}>
          {methodLabel(t, provider.provider)} {provider.sandbox && <Tag color="amber">SANDBOX</Tag>} {provider.problem && <Tag color="red">{provider.problem}</Tag>}
        </Typography.Title>
        <label className="check">
          <Switch checked={enabled} onChange={setEnabled} aria-label={`${t('common.enabled')}: ${methodLabel(t, provider.provider)}`} /> {enabled ? t('common.enabled') : t('common.disabled')}
        </label>
      </div>
      {provider.notifyUrl && (
        <p className="muted">
          {t('p.pp.notifyUrl')}: <code>{provider.notifyUrl}</code>
        </p>
      )}
      <div className="form grid2">
        {fields.map((s) => {
          const id = `${idBase}-${s.name}`;
          const isSet = s.secret && provider.config[s.name] === '********';
          const label = `${s.name}${s.optional ? ` (${t('p.pp.optional')})` : ''}${isSet ? ` — ${t('p.notify.secretKept')}` : ''}`;
          const onChange = (v: string) => setValues((old) => ({ ...old, [s.name]: v }));
          return (
            <Field key={s.name} id={id} label={label} hint={s.choices?.join(' / ')} error={issue(s.name)}>
              {s.multiline && !s.secret ? (
                <TextArea id={id} value={values[s.name]} onChange={onChange} autosize={{ minRows: 2, maxRows: 6 }} />
              ) : (
                <Input id={id} type={s.secret ? 'password' : 'text'} autoComplete="off" value={values[s.name]} onChange={onChange} />
              )}
            </Field>
          );
        })}
      </div>
      <div className="form-actions">
        <ErrorBanner error={error} />
        <Button theme="solid" type="primary" loading={busy} onClick={save} aria-label={`${t('common.save')}: ${methodLabel(t, provider.provider)}`}>
          {t('common.save')}
        </Button>
      </div>
    </div>
  );
}

export function PaymentProviders() {
  const { t } = useI18n();
  const providers = useQuery({ queryKey: ['admin', 'providers'], queryFn: () => unwrap(api.GET('/api/admin/payment-providers')) });
  return (
    <>
      <Typography.Title heading={4} className="section-title">
        {t('p.pp.title')}
      </Typography.Title>
      <p className="muted">{t('p.pp.intro')}</p>
      <ErrorBanner error={providers.error} />
      {providers.data?.items.map((p) => <ProviderCard key={p.provider} provider={p} />)}
    </>
  );
}
