import '@douyinfe/semi-ui/dist/css/semi.min.css';
import './styles.css';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { setUnauthorizedHandler } from './api/client.ts';
import { SemiLocale } from './components/SemiLocale.tsx';
import { I18nProvider } from './i18n/index.tsx';
import { router } from './routes.tsx';

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
});

// A 401 anywhere: forget what we knew, go to sign-in, and come back to this page afterwards.
setUnauthorizedHandler(() => {
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname === '/sign-in') return;
  queryClient.clear();
  void router.navigate(`/sign-in?next=${encodeURIComponent(here)}&expired=1`, { replace: true });
});

createRoot(document.getElementById('root')!).render(
  // No StrictMode: its double mount leaves Semi's modal portals empty (they build their container once).
  <I18nProvider>
      <SemiLocale>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </SemiLocale>
  </I18nProvider>,
);
