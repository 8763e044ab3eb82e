import { Banner, Button, Input } from '@douyinfe/semi-ui';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { Field } from '../components/Field.tsx';
import { useI18n } from '../i18n/index.tsx';
import { AuthLayout } from './AuthLayout.tsx';

/** Only paths inside the console are followed after sign-in (no open redirect). */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export default function SignIn() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState(params.get('username') ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { user } = await unwrap(api.POST('/api/auth/login', { body: { username, password } }));
      queryClient.setQueryData(['me'], user);
      navigate(safeNext(params.get('next')), { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('auth.signIn')}>
      {params.get('expired') && <Banner type="warning" fullMode={false} closeIcon={null} description={t('auth.sessionEnded')} />}
      {params.get('registered') && <Banner type="success" fullMode={false} closeIcon={null} description={t('auth.registered')} />}
      <form onSubmit={submit} className="form">
        <Field id="username" label={t('auth.username')}>
          <Input id="username" name="username" autoComplete="username" value={username} onChange={setUsername} required />
        </Field>
        <Field id="password" label={t('auth.password')}>
          <Input id="password" name="password" type="password" autoComplete="current-password" value={password} onChange={setPassword} required />
        </Field>
        <ErrorBanner error={error} />
        <Button htmlType="submit" theme="solid" type="primary" block loading={busy}>
          {t('auth.signIn')}
        </Button>
      </form>
      <p className="auth-alt">
        {t('auth.noAccount')} <Link to={`/register${params.get('invite') ? `?invite=${encodeURIComponent(params.get('invite')!)}` : ''}`}>{t('auth.register')}</Link>
      </p>
    </AuthLayout>
  );
}
