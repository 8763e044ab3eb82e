import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api, unwrap, type Schemas } from './client.ts';

/** The signed-in user; fails with 401 when there is no session. */
export function useMe() {
  return useQuery<Schemas['User']>({ queryKey: ['me'], queryFn: () => unwrap(api.GET('/api/me')), retry: false, staleTime: 60_000 });
}

export const isAdmin = (user: Schemas['User'] | undefined) => user?.role === 'admin' || user?.role === 'root';

/** The operator's site name (setting siteName, public through /api/status); also the tab's title. */
export function useSiteName(): string {
  const status = useQuery({ queryKey: ['status'], queryFn: () => unwrap(api.GET('/api/status')), staleTime: 300_000 });
  const name = status.data?.siteName ?? 'MoleAPI';
  useEffect(() => {
    document.title = name;
  }, [name]);
  return name;
}
