import { Typography } from '@douyinfe/semi-ui';
import type { ReactNode } from 'react';
import { useSiteName } from '../api/session.ts';
import { LangSwitch } from '../components/LangSwitch.tsx';
import { useI18n } from '../i18n/index.tsx';

export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  const { t } = useI18n();
  const siteName = useSiteName();
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="auth-head">
          <span className="brand-mark" aria-hidden="true">
            M
          </span>
          <span className="brand-text">{siteName}</span>
          <span className="spacer" />
          <LangSwitch />
        </div>
        <Typography.Title heading={2}>{title}</Typography.Title>
        <Typography.Paragraph type="secondary">{t('auth.tagline')}</Typography.Paragraph>
        {children}
      </div>
    </main>
  );
}
