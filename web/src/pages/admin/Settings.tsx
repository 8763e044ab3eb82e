import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { Loading } from '../../components/Loading.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { GeneralSettings } from './settings/General.tsx';
import { PaymentProviders } from './settings/Providers.tsx';
import { SmtpSettings } from './settings/Smtp.tsx';
import '../../styles/pages.css';

/** Operator settings: site, registration, credits, top-ups; payment providers; SMTP. */
export default function AdminSettings() {
  const { t } = useI18n();
  const settings = useQuery({ queryKey: ['admin', 'settings'], queryFn: () => unwrap(api.GET('/api/admin/settings')) });
  const groups = useQuery({ queryKey: ['admin', 'groups'], queryFn: () => unwrap(api.GET('/api/admin/groups')) });
  const smtp = useQuery({ queryKey: ['admin', 'smtp'], queryFn: () => unwrap(api.GET('/api/admin/smtp')) });
  return (
    <section>
      <PageHeader title={t('p.set.title')} />
      <ErrorBanner error={settings.error ?? groups.error ?? smtp.error} />
      {settings.data && groups.data ? <GeneralSettings settings={settings.data} groups={groups.data.items.map((g) => g.name)} /> : !settings.error && <Loading />}
      <PaymentProviders />
      {smtp.isSuccess && <SmtpSettings smtp={smtp.data} />}
    </section>
  );
}
