import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Gateway } from '../gateway.ts';
import { errorResponse, requireAdmin, requireUser, type Env } from './common.ts';
import { openApiDocument } from './openapi.ts';
import { adminCatalogRoutes } from './routes/admin-catalog.ts';
import { adminUserRoutes } from './routes/admin-users.ts';
import { authRoutes } from './routes/auth.ts';
import { keyRoutes } from './routes/keys.ts';
import { walletRoutes } from './routes/wallet.ts';

export const VERSION = '0.1.0';

/** The management API (JSON under /api), used by the console, operators and scripts. */
export function managementApp(gw: Gateway) {
  const admin = new Hono<Env>().use('*', requireUser, requireAdmin).route('/', adminCatalogRoutes).route('/', adminUserRoutes);
  const api = new Hono<Env>()
    .get('/status', (c) => c.json({ ok: true, version: VERSION }))
    .get('/openapi.json', (c) => c.json(openApiDocument()))
    .route('/', authRoutes)
    .route('/', keyRoutes)
    .route('/', walletRoutes)
    .route('/admin', admin);

  return new Hono<Env>()
    .use('*', async (c, next) => {
      c.set('gw', gw);
      await next();
    })
    .use('/api/*', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: { message: 'Request body too large (1 MB max).', code: 'request_too_large' } }, 413) }))
    .route('/api', api)
    .notFound((c) => c.json({ error: { message: `Unknown route ${c.req.method} ${c.req.path}.`, code: 'not_found' } }, 404))
    .onError((err, c) => errorResponse(c, err));
}

