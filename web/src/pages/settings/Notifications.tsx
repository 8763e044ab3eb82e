import { Button, Input, InputNumber, Toast, Typography } from '@douyinfe/semi-ui';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiFailure, api, fieldError, unwrap, type Schemas } from '../../api/client.ts';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { Field } from '../../components/Field.tsx';
import type { MessageKey } from '../../i18n/en.ts';
import { useI18n } from '../../i18n/index.tsx';
import { usdToPoints } from '../../lib/money.ts';
import { pointsToUsdInput } from '../../lib/usd-input.ts';

type Settings = Schemas['NotificationSettings'];
type Method = Settings['method'];
const METHODS: Method[] = ['email', 'webhook', 'bark', 'gotify'];
const MASK = '********';

/** GET answers 404 until the user saves settings once: that is "nothing yet", not an error. */
async function loadSettings(): Promise<Settings | null> {
  try {
    return await unwrap(api.GET('/api/me/notifications'));
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) return null;
    throw err;
  }
}

/** Balance alerts: method, threshold and the method's target; write-only secrets are never shown. */
export function NotificationSettings() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const stored = useQuery({ queryKey: ['me', 'notifications'], queryFn: loadSettings });
  const [method, setMethod] = useState<Method>('email');
  const [threshold, setThreshold] = useState('1');
  const [email, setEmail] = useState('');
  const [webhookUrl, setWebhookUrl] = useState('');
  const [webhookSecret, setWebhookSecret] = useState('');
  const [barkUrl, setBarkUrl] = useState('');
  const [gotifyUrl, setGotifyUrl] = useState('');
  const [gotifyToken, setGotifyToken] = useState('');
  const [gotifyPriority, setGotifyPriority] = useState<number>(5);
  const [error, setError] = useState<unknown>(null);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);

  useEffect(() => {
    const s = stored.data;
    if (!s) return;
    setMethod(s.method);
    setThreshold(pointsToUsdInput(s.thresholdQuota));
    setEmail(s.email ?? '');
    setWebhookUrl(s.webhookUrl ?? '');
    setBarkUrl(s.barkUrl ?? '');
    setGotifyUrl(s.gotifyUrl ?? '');
    setGotifyPriority(s.gotifyPriority ?? 5);
  }, [stored.data]);

  const thresholdPoints = usdToPoints(threshold);
  // What the form itself can tell before asking the server: the chosen method's target is required.
  const missing = {
    email: method === 'email' && !email.trim(),
    webhookUrl: method === 'webhook' && !webhookUrl.trim(),
    barkUrl: method === 'bark' && !barkUrl.trim(),
    gotifyUrl: method === 'gotify' && !gotifyUrl.trim(),
    gotifyToken: method === 'gotify' && !gotifyToken && stored.data?.gotifyToken !== MASK,
  };
  const badThreshold = thresholdPoints === null || thresholdPoints < 0;
  const invalid = badThreshold || Object.values(missing).some(Boolean);
  const thresholdError = touched && badThreshold ? t('p.notify.thresholdInvalid') : fieldError(error, 'thresholdQuota');
  const errorFor = (field: keyof typeof missing) => (touched && missing[field] ? t('p.notify.required') : fieldError(error, field));
  const errors = { email: errorFor('email'), webhookUrl: errorFor('webhookUrl'), barkUrl: errorFor('barkUrl'), gotifyUrl: errorFor('gotifyUrl'), gotifyToken: errorFor('gotifyToken') };

  const save = async (): Promise<boolean> => {
    setTouched(true);
    if (thresholdPoints === null || invalid) return false;
    setBusy('save');
    setError(null);
    try {
      const saved = await unwrap(
        api.PUT('/api/me/notifications', {
          body: {
            method,
            thresholdQuota: thresholdPoints,
            email: email.trim() || null,
            webhookUrl: webhookUrl.trim() || null,
            barkUrl: barkUrl.trim() || null,
            gotifyUrl: gotifyUrl.trim() || null,
            gotifyPriority,
            // Secrets: omitted keeps the stored one; typed text replaces it.
            ...(webhookSecret ? { webhookSecret } : {}),
            ...(gotifyToken ? { gotifyToken } : {}),
          },
        }),
      );
      queryClient.setQueryData(['me', 'notifications'], saved);
      setWebhookSecret('');
      setGotifyToken('');
      setTouched(false);
      Toast.success(t('common.saved'));
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(null);
    }
  };

  const sendTest = async () => {
    if (!(await save())) return;
    setBusy('test');
    try {
      await unwrap(api.POST('/api/me/notifications/test'));
      Toast.success(t('p.notify.testSent'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const s = stored.data;
  const secretLabel = (key: MessageKey, isSet: boolean) => `${t(key)}${isSet ? ` (${t('p.notify.secretKept')})` : ''}`;
  return (
    <div className="card" data-testid="notification-settings">
      <Typography.Title heading={4}>{t('p.notify.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('p.notify.intro')}</Typography.Paragraph>
      <ErrorBanner error={stored.error} />
      <form
        className="form grid2"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset className="fieldset full">
          <legend className="field-label">{t('p.notify.method')}</legend>
          <div className="radio-row">
            {METHODS.map((m) => (
              <label key={m}>
                <input type="radio" name="notify-method" value={m} checked={method === m} onChange={() => setMethod(m)} />
                {t(`p.notify.m.${m}` as MessageKey)}
              </label>
            ))}
          </div>
        </fieldset>
        <Field id="notify-threshold" label={t('p.notify.threshold')} hint={t('p.notify.thresholdHint')} error={thresholdError}>
          <Input id="notify-threshold" inputMode="decimal" prefix="$" value={threshold} onChange={setThreshold} validateStatus={thresholdError ? 'error' : 'default'} />
        </Field>
        {method === 'email' && (
          <Field id="notify-email" label={t('p.notify.email')} hint={t('p.notify.emailHint')} error={errors.email}>
            <Input id="notify-email" type="email" autoComplete="email" value={email} onChange={setEmail} validateStatus={errors.email ? 'error' : 'default'} />
          </Field>
        )}
        {method === 'webhook' && (
          <>
            <Field id="notify-webhook-url" label={t('p.notify.webhookUrl')} hint={t('p.notify.webhookHint')} error={errors.webhookUrl}>
              <Input id="notify-webhook-url" type="url" value={webhookUrl} onChange={setWebhookUrl} placeholder="https://example.com/hooks/moleapi" validateStatus={errors.webhookUrl ? 'error' : 'default'} />
            </Field>
            <Field id="notify-webhook-secret" label={secretLabel('p.notify.webhookSecret', s?.webhookSecret === MASK)} hint={t('p.notify.webhookSecretHint')} error={fieldError(error, 'webhookSecret')}>
              <Input id="notify-webhook-secret" type="password" autoComplete="off" value={webhookSecret} onChange={setWebhookSecret} />
            </Field>
          </>
        )}
        {method === 'bark' && (
          <Field id="notify-bark-url" label={t('p.notify.barkUrl')} hint={t('p.notify.barkHint')} error={errors.barkUrl}>
            <Input id="notify-bark-url" type="url" value={barkUrl} onChange={setBarkUrl} placeholder="https://api.day.app/your-device-key" validateStatus={errors.barkUrl ? 'error' : 'default'} />
          </Field>
        )}
        {method === 'gotify' && (
          <>
            <Field id="notify-gotify-url" label={t('p.notify.gotifyUrl')} error={errors.gotifyUrl}>
              <Input id="notify-gotify-url" type="url" value={gotifyUrl} onChange={setGotifyUrl} placeholder="https://gotify.example.com" validateStatus={errors.gotifyUrl ? 'error' : 'default'} />
            </Field>
            <Field id="notify-gotify-token" label={secretLabel('p.notify.gotifyToken', s?.gotifyToken === MASK)} error={errors.gotifyToken}>
              <Input id="notify-gotify-token" type="password" autoComplete="off" value={gotifyToken} onChange={setGotifyToken} validateStatus={errors.gotifyToken ? 'error' : 'default'} />
            </Field>
            <Field id="notify-gotify-priority" label={t('p.notify.gotifyPriority')} hint="0–10" error={fieldError(error, 'gotifyPriority')}>
              <InputNumber id="notify-gotify-priority" min={0} max={10} value={gotifyPriority} onChange={(v) => setGotifyPriority(Math.min(10, Math.max(0, Number(v) || 0)))} />
            </Field>
          </>
        )}
        <div className="form-actions full">
          <ErrorBanner error={error} />
          <div className="inline-actions">
            <Button htmlType="submit" theme="solid" type="primary" loading={busy === 'save'}>
              {t('common.save')}
            </Button>
            <Button onClick={sendTest} loading={busy === 'test'}>
              {t('p.notify.sendTest')}
            </Button>
          </div>
        </div>
      </form>
    </div>
  );
}
