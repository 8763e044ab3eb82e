import { Button, Input, InputNumber, Toast, Typography } from '@douyinfe/semi-ui';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, fieldError, unwrap, type Schemas } from '../../../api/client.ts';
import { ErrorBanner } from '../../../components/ErrorBanner.tsx';
import { Field } from '../../../components/Field.tsx';
import { NativeSelect } from '../../../components/NativeSelect.tsx';
import { useI18n } from '../../../i18n/index.tsx';

type Security = 'tls' | 'starttls' | 'none';

/** The outgoing mail server (for verification emails and email alerts), with a test email. */
export function SmtpSettings({ smtp }: { smtp: Schemas['SmtpSettings'] }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [host, setHost] = useState(smtp?.host ?? '');
  const [port, setPort] = useState<number>(smtp?.port ?? 465);
  const [security, setSecurity] = useState<Security>(smtp?.security ?? 'tls');
  const [user, setUser] = useState(smtp?.user ?? '');
  const [password, setPassword] = useState('');
  const [from, setFrom] = useState(smtp?.from ?? '');
  const [to, setTo] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [touched, setTouched] = useState(false);
  const hostError = touched && !host.trim() ? t('p.notify.required') : fieldError(error, 'host');
  const fromError = touched && !from.trim() ? t('p.notify.required') : fieldError(error, 'from');

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!host.trim() || !from.trim()) return;
    setBusy('save');
    setError(null);
    try {
      const saved = await unwrap(api.PUT('/api/admin/smtp', { body: { host: host.trim(), port, security, user: user.trim() || null, from: from.trim(), ...(password ? { password } : {}) } }));
      queryClient.setQueryData(['admin', 'smtp'], saved);
      setPassword('');
      setTouched(false);
      Toast.success(t('common.saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const test = async () => {
    setBusy('test');
    setTestError(null);
    try {
      await unwrap(api.POST('/api/admin/smtp/test', { body: { to: to.trim() } }));
      Toast.success(t('p.smtp.sent', { to: to.trim() }));
    } catch (err) {
      setTestError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="card">
      <Typography.Title heading={4} className="section-title">
        {t('p.smtp.title')}
      </Typography.Title>
      <form className="form grid2" onSubmit={save} noValidate>
        <Field id="smtp-host" label={t('p.smtp.host')} error={hostError}>
          <Input id="smtp-host" value={host} onChange={setHost} placeholder="smtp.example.com" validateStatus={hostError ? 'error' : 'default'} />
        </Field>
        <Field id="smtp-port" label={t('p.smtp.port')} error={fieldError(error, 'port')}>
          <InputNumber id="smtp-port" min={1} max={65535} value={port} onChange={(v) => setPort(Number(v) || 0)} />
        </Field>
        <Field id="smtp-security" label={t('p.smtp.security')} hint={t('p.smtp.securityHint')}>
          <NativeSelect id="smtp-security" value={security} options={(['tls', 'starttls', 'none'] as const).map((s) => ({ value: s, label: s }))} onChange={(v) => setSecurity(v ?? 'tls')} />
        </Field>
        <Field id="smtp-from" label={t('p.smtp.from')} error={fromError}>
          <Input id="smtp-from" value={from} onChange={setFrom} placeholder="MoleAPI <noreply@example.com>" validateStatus={fromError ? 'error' : 'default'} />
        </Field>
        <Field id="smtp-user" label={t('p.smtp.user')} error={fieldError(error, 'user')}>
          <Input id="smtp-user" autoComplete="off" value={user} onChange={setUser} />
        </Field>
        <Field id="smtp-password" label={`${t('auth.password')}${smtp?.password ? ` — ${t('p.notify.secretKept')}` : ''}`} error={fieldError(error, 'password')}>
          <Input id="smtp-password" type="password" autoComplete="new-password" value={password} onChange={setPassword} />
        </Field>
        <div className="form-actions full">
          <ErrorBanner error={error} />
          <Button htmlType="submit" theme="solid" type="primary" loading={busy === 'save'}>
            {t('common.save')}
          </Button>
        </div>
      </form>
      <div className="form">
        <Field id="smtp-test-to" label={t('p.smtp.testTo')} error={fieldError(testError, 'to')}>
          <div className="inline-actions">
            <Input id="smtp-test-to" type="email" value={to} onChange={setTo} style={{ maxWidth: 320 }} />
            <Button onClick={test} loading={busy === 'test'} disabled={!smtp || !to.trim()}>
              {t('p.smtp.sendTest')}
            </Button>
          </div>
        </Field>
        <ErrorBanner error={testError} />
      </div>
    </div>
  );
}
