import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { ApiFailure } from '../api/client.ts';
import { isAdmin, useMe } from '../api/session.ts';
import { ErrorBanner } from './ErrorBanner.tsx';
import { Loading } from './Loading.tsx';

/** Pages behind sign-in: without a session, go to sign-in and come back here afterwards. */
export function RequireUser({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading />;
  if (me.error instanceof ApiFailure && me.error.status === 401) {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  if (me.error) return <ErrorBanner error={me.error} />;
  return <>{children}</>;
}

/** Admin pages do not exist for other users (the API refuses them too). */
export function RequireAdmin({ children }: { children: ReactNode }) {
  const me = useMe();
  if (!isAdmin(me.data)) return <Navigate to="/" replace />;
  return <>{children}</>;
}
