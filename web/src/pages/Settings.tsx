import { Button, Input, Toast, Typography } from '@douyinfe/semi-ui';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useMe } from '../api/session.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { Field } from '../components/Field.tsx';
import { LangSwitch } from '../components/LangSwitch.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { NotificationSettings } from './settings/Notifications.tsx';
import '../styles/pages.css';

export default function Settings() {
  const { t } = useI18n();
  const me = useMe();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const nextError = touched && next.length < 8 ? t('auth.passwordRule') : undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (next.length < 8) return;
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/api/me/password', { body: { currentPassword: current, newPassword: next } }));
      Toast.success(t('settings.changed'));
      setCurrent('');
      setNext('');
      setTouched(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const u = me.data;
  return (
    <section>
      <PageHeader title={t('settings.title')} />
      <div className="card">
        <Typography.Title heading={4}>{t('settings.profile')}</Typography.Title>
        <dl className="detail">
          <dt>{t('auth.username')}</dt>
          <dd>{u?.username}</dd>
          <dt>{t('auth.email')}</dt>
          <dd>{u?.email ?? '—'}</dd>
          <dt>{t('settings.role')}</dt>
          <dd>{u?.role}</dd>
          <dt>{t('common.group')}</dt>
          <dd>{u?.group}</dd>
          <dt>{t('lang.label')}</dt>
          <dd>
            <LangSwitch />
          </dd>
        </dl>
      </div>
      <div className="card narrow">
        <Typography.Title heading={4}>{t('settings.password')}</Typography.Title>
        <form className="form" onSubmit={submit} noValidate>
          <Field id="current-password" label={t('settings.current')}>
            <Input id="current-password" type="password" autoComplete="current-password" value={current} onChange={setCurrent} />
          </Field>
          <Field id="new-password" label={t('settings.new')} hint={t('auth.passwordRule')} error={nextError}>
            <Input id="new-password" type="password" autoComplete="new-password" value={next} onChange={setNext} validateStatus={nextError ? 'error' : 'default'} />
          </Field>
          <ErrorBanner error={error} />
          <Button htmlType="submit" theme="solid" type="primary" loading={busy}>
            {t('common.save')}
          </Button>
        </form>
      </div>
      <NotificationSettings />
    </section>
  );
}
