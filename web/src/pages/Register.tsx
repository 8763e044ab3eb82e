import { Button, Input } from '@douyinfe/semi-ui';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiFailure, unwrap } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { Field } from '../components/Field.tsx';
import { useI18n } from '../i18n/index.tsx';
import { AuthLayout } from './AuthLayout.tsx';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

export default function Register() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [email, setEmail] = useState('');
  const [inviteCode, setInviteCode] = useState(params.get('invite') ?? '');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const usernameError = touched && !USERNAME.test(username) ? t('auth.usernameRule') : undefined;
  const passwordError = touched && password.length < 8 ? t('auth.passwordRule') : undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!USERNAME.test(username) || password.length < 8) return;
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/api/auth/register', { body: { username, password, ...(email ? { email } : {}), ...(inviteCode ? { inviteCode } : {}) } }));
      // Sign in straight away: the wallet with its trial credit is the first thing to see.
      await unwrap(api.POST('/api/auth/login', { body: { username, password } }));
      navigate('/wallet', { replace: true });
    } catch (err) {
      setError(err);
      if (err instanceof ApiFailure && err.status === 401) navigate(`/sign-in?registered=1&username=${encodeURIComponent(username)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('auth.register')}>
      <form onSubmit={submit} className="form" noValidate>
        <Field id="username" label={t('auth.username')} hint={t('auth.usernameRule')} error={usernameError}>
          <Input id="username" name="username" autoComplete="username" value={username} onChange={setUsername} validateStatus={usernameError ? 'error' : 'default'} />
        </Field>
        <Field id="password" label={t('auth.password')} hint={t('auth.passwordRule')} error={passwordError}>
          <Input id="password" name="password" type="password" autoComplete="new-password" value={password} onChange={setPassword} validateStatus={passwordError ? 'error' : 'default'} />
        </Field>
        <Field id="email" label={t('auth.email')}>
          <Input id="email" name="email" type="email" autoComplete="email" value={email} onChange={setEmail} />
        </Field>
        <Field id="invite" label={t('auth.inviteCode')}>
          <Input id="invite" name="inviteCode" value={inviteCode} onChange={setInviteCode} />
        </Field>
        <ErrorBanner error={error} />
        <Button htmlType="submit" theme="solid" type="primary" block loading={busy}>
          {t('auth.register')}
        </Button>
      </form>
      <p className="auth-alt">
        {t('auth.haveAccount')} <Link to="/sign-in">{t('auth.signIn')}</Link>
      </p>
    </AuthLayout>
  );
}
