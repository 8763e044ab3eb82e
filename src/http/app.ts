import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Gateway } from '../gateway.ts';
import { jsonBodiesOnly, sameOriginOnly } from './browser-guard.ts';
import { errorResponse, requireAdmin, requireUser, routes } from './common.ts';
import { DOCUMENT_INFO, describeRelay } from './openapi.ts';
import { adminCatalogRoutes } from './routes/admin-catalog.ts';
import { adminPaymentRoutes } from './routes/admin-payments.ts';
import { adminUserRoutes } from './routes/admin-users.ts';
import { authRoutes } from './routes/auth.ts';
import { adminInvoiceRoutes, invoiceRoutes } from './routes/invoices.ts';
import { emailVerificationRoutes } from './routes/email-verification.ts';
import { keyRoutes } from './routes/keys.ts';
import { adminSmtpRoutes, notificationRoutes } from './routes/notifications.ts';
import { adminRedemptionRoutes, redeemRoutes } from './routes/redemption.ts';
import { referralRoutes } from './routes/referral.ts';
import { paymentNotifyRoutes } from './routes/payment-notify.ts';
import { topupRoutes } from './routes/topup.ts';
import { usageRoutes } from './routes/usage.ts';
import { walletRoutes } from './routes/wallet.ts';
import { json } from './schemas.ts';
import { securityHeaders } from './security-headers.ts';
import { consoleHandler, DEFAULT_WEB_DIR } from './static.ts';

export const VERSION = '0.1.0';

const status = createRoute({
  method: 'get',
  path: '/status',
  summary: 'Readiness probe',
  tags: ['status'],
  security: [],
  responses: { 200: json(z.object({ ok: z.literal(true), version: z.string(), siteName: z.string().openapi({ description: 'The setting siteName, for the console' }) })) },
});

/** The management API (JSON under /api), used by the console, operators and scripts. */
export function managementApp(gw: Gateway) {
  const admin = routes();
  admin.use('*', requireUser, requireAdmin);
  admin
    .route('/', adminCatalogRoutes)
    .route('/', adminUserRoutes)
    .route('/', adminRedemptionRoutes)
    .route('/', adminPaymentRoutes)
    .route('/', adminInvoiceRoutes)
    .route('/', adminSmtpRoutes);
  const api = routes()
    .openapi(status, (c) => c.json({ ok: true as const, version: VERSION, siteName: c.get('gw').settings.current.siteName }, 200))
    .route('/', authRoutes)
    .route('/', keyRoutes)
    .route('/', walletRoutes)
    .route('/', usageRoutes)
    .route('/', redeemRoutes)
    .route('/', referralRoutes)
    .route('/', topupRoutes)
    .route('/', paymentNotifyRoutes)
    .route('/', invoiceRoutes)
    .route('/', notificationRoutes)
    .route('/', emailVerificationRoutes)
    .route('/admin', admin);

  const app = routes();
  app
    .use('*', async (c, next) => {
      c.set('gw', gw);
      await next();
    })
    .use('*', securityHeaders())
    .use('/api/*', sameOriginOnly)
    .use('/api/*', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: { message: 'Request body too large (1 MB max).', code: 'request_too_large' } }, 413) }))
    .use('/api/*', jsonBodiesOnly);
  app.route('/api', api);

  describeRelay(app);
  let document: unknown;
  // Generated once, on first request: every route is registered by then.
  app.get('/api/openapi.json', (c) => c.json((document ??= app.getOpenAPI31Document(DOCUMENT_INFO))));
  // Everything else is the console (the relay's /v1 never reaches this app: src/server.ts).
  const serveConsole = consoleHandler(gw.config.WEB_DIR ?? DEFAULT_WEB_DIR);
  app.get('*', (c, next) => (c.req.path === '/api' || c.req.path.startsWith('/api/') ? next() : serveConsole(c)));
  app.notFound((c) => c.json({ error: { message: `Unknown route ${c.req.method} ${c.req.path}.`, code: 'not_found' } }, 404));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
