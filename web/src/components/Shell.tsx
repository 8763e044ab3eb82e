import { Button } from '@douyinfe/semi-ui';
import { useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { api, unwrap } from '../api/client.ts';
import { isAdmin, useMe, useSiteName } from '../api/session.ts';
import type { MessageKey } from '../i18n/en.ts';
import { useI18n } from '../i18n/index.tsx';
import { LangSwitch } from './LangSwitch.tsx';

const USER_LINKS: { to: string; label: MessageKey; icon: string }[] = [
  { to: '/', label: 'nav.dashboard', icon: '◧' },
  { to: '/keys', label: 'nav.keys', icon: '⚷' },
  { to: '/logs', label: 'nav.logs', icon: '☰' },
  { to: '/pricing', label: 'nav.pricing', icon: '¤' },
  { to: '/wallet', label: 'nav.wallet', icon: '▣' },
  { to: '/playground', label: 'p.nav.playground', icon: '✎' },
  { to: '/settings', label: 'nav.settings', icon: '⚙' },
];
const ADMIN_LINKS: typeof USER_LINKS = [
  { to: '/admin/users', label: 'nav.adminUsers', icon: '☺' },
  { to: '/admin/channels', label: 'nav.adminChannels', icon: '⇄' },
  { to: '/admin/prices', label: 'nav.adminPrices', icon: '$' },
  { to: '/admin/groups', label: 'p.nav.groups', icon: '▤' },
  { to: '/admin/codes', label: 'p.nav.codes', icon: '#' },
  { to: '/admin/orders', label: 'p.nav.orders', icon: '≡' },
  { to: '/admin/invoices', label: 'p.nav.invoices', icon: '✉' },
  { to: '/admin/settings', label: 'p.nav.settings', icon: '⚒' },
];

/** The signed-in layout: a left sidebar (a top bar of icons on phones) and the page. */
export default function Shell() {
  const { t } = useI18n();
  const me = useMe();
  const siteName = useSiteName();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  const signOut = async () => {
    await unwrap(api.POST('/api/auth/logout')).catch(() => undefined);
    queryClient.clear();
    navigate('/sign-in', { replace: true });
  };

  const link = (l: (typeof USER_LINKS)[number]) => (
    <li key={l.to}>
      <NavLink to={l.to} end={l.to === '/'} className={({ isActive }) => (isActive ? 'nav-link active' : 'nav-link')}>
        <span className="nav-icon" aria-hidden="true">
          {l.icon}
        </span>
        <span className="nav-text">{t(l.label)}</span>
      </NavLink>
    </li>
  );

  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            M
          </span>
          <span className="brand-text">{siteName}</span>
        </div>
        <nav aria-label={t('nav.menu')}>
          <ul className="nav-list">{USER_LINKS.map(link)}</ul>
          {isAdmin(me.data) && (
            <>
              <div className="nav-section">{t('nav.admin')}</div>
              <ul className="nav-list">{ADMIN_LINKS.map(link)}</ul>
            </>
          )}
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <span className="topbar-user">{me.data?.username}</span>
          <LangSwitch />
          <Button theme="borderless" onClick={signOut}>
            {t('nav.signOut')}
          </Button>
        </header>
        <main className="content">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
