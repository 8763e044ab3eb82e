// Every page is its own chunk: the sign-in page loads only what it needs.
import { lazy, Suspense, type ComponentType } from 'react';
import { createBrowserRouter } from 'react-router';
import { Loading } from './components/Loading.tsx';
import { RequireAdmin, RequireUser } from './components/RequireUser.tsx';

const page = (load: () => Promise<{ default: ComponentType }>) => {
  const Page = lazy(load);
  return (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
};

export const router = createBrowserRouter([
  { path: '/sign-in', element: page(() => import('./pages/SignIn.tsx')) },
  { path: '/register', element: page(() => import('./pages/Register.tsx')) },
  {
    element: <RequireUser>{page(() => import('./components/Shell.tsx'))}</RequireUser>,
    children: [
      { index: true, element: page(() => import('./pages/Dashboard.tsx')) },
      { path: 'keys', element: page(() => import('./pages/Keys.tsx')) },
      { path: 'logs', element: page(() => import('./pages/Logs.tsx')) },
      { path: 'pricing', element: page(() => import('./pages/Pricing.tsx')) },
      { path: 'wallet', element: page(() => import('./pages/Wallet.tsx')) },
      { path: 'playground', element: page(() => import('./pages/Playground.tsx')) },
      { path: 'settings', element: page(() => import('./pages/Settings.tsx')) },
      { path: 'admin/users', element: <RequireAdmin>{page(() => import('./pages/admin/Users.tsx'))}</RequireAdmin> },
      { path: 'admin/channels', element: <RequireAdmin>{page(() => import('./pages/admin/Channels.tsx'))}</RequireAdmin> },
      { path: 'admin/prices', element: <RequireAdmin>{page(() => import('./pages/admin/Prices.tsx'))}</RequireAdmin> },
      { path: 'admin/groups', element: <RequireAdmin>{page(() => import('./pages/admin/Groups.tsx'))}</RequireAdmin> },
      { path: 'admin/codes', element: <RequireAdmin>{page(() => import('./pages/admin/Codes.tsx'))}</RequireAdmin> },
      { path: 'admin/orders', element: <RequireAdmin>{page(() => import('./pages/admin/Orders.tsx'))}</RequireAdmin> },
      { path: 'admin/invoices', element: <RequireAdmin>{page(() => import('./pages/admin/Invoices.tsx'))}</RequireAdmin> },
      { path: 'admin/settings', element: <RequireAdmin>{page(() => import('./pages/admin/Settings.tsx'))}</RequireAdmin> },
      { path: '*', element: page(() => import('./pages/NotFound.tsx')) },
    ],
  },
]);
