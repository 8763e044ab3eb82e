// Payment providers' server-to-server callbacks. No session: each call is authenticated by its
// signature (src/wallet/notify.ts). Exempt from the browser rules (forms from foreign origins), so the
// raw body is read here exactly as sent (Stripe verifies the exact bytes).
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { handleNotify } from '../../wallet/notify.ts';
import { routes, type Env } from '../common.ts';

const ProviderParam = z.object({ provider: z.string().max(32).openapi({ param: { name: 'provider', in: 'path' }, example: 'epay' }) });
const text = (description: string) => ({ description, content: { 'text/plain': { schema: z.string() } } });
const responses = {
  200: text("The provider's acknowledgement (`success`, `SUCCESS`, `{\"received\":true}`), sent only after the credit committed"),
  400: text('Refused: bad signature, unknown order, merchant or amount mismatch (the provider retries)'),
  404: text('Unknown or disabled provider'),
  503: text('The credit could not be committed; the provider retries'),
};
const describe = (method: 'get' | 'post') =>
  createRoute({
    method,
    path: '/payment/notify/{provider}',
    tags: ['payments'],
    security: [],
    summary: `Payment callback (${method.toUpperCase()}), authenticated by the provider's signature`,
    request: { params: ProviderParam },
    responses,
  });

async function notify(c: Context<Env>, provider: string) {
  const url = c.req.url;
  const q = url.indexOf('?');
  const reply = await handleNotify(c.get('gw'), provider, {
    method: c.req.method,
    query: q === -1 ? '' : url.slice(q + 1),
    body: c.req.method === 'GET' ? '' : await c.req.text(),
    headers: c.req.header(),
  });
  return c.body(reply.body, reply.status as 200, { 'content-type': reply.contentType });
}

export const paymentNotifyRoutes = routes()
  .openapi(describe('get'), (c) => notify(c, c.req.valid('param').provider) as any)
  .openapi(describe('post'), (c) => notify(c, c.req.valid('param').provider) as any);
