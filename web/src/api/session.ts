import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from './client.ts';

/** The signed-in user; fails with 401 when there is no session. */
export function useMe() {
  return useQuery<Schemas['User']>({ queryKey: ['me'], queryFn: () => unwrap(api.GET('/api/me')), retry: false, staleTime: 60_000 });
}

export const isAdmin = (user: Schemas['User'] | undefined) => user?.role === 'admin' || user?.role === 'root';
