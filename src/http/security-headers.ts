import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

// JSON answers load nothing and are never framed.
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] };

/**
 * For pages this server will serve itself (the console): its own scripts, styles, images and API, no
 * inline script, no framing. The console's assets use this when they are added.
 */
export const CONSOLE_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  // A top-up may post a form to the payment provider's page (EPay's `form` mode); providers are HTTPS.
  formAction: ["'self'", 'https:'],
  frameAncestors: ["'none'"],
};

const common = { xFrameOptions: 'DENY', referrerPolicy: 'no-referrer', crossOriginResourcePolicy: 'same-origin' } as const;

/** The standard security headers, with a CSP for JSON under /api and the console's CSP elsewhere. */
export function securityHeaders(): MiddlewareHandler {
  const api = secureHeaders({ ...common, contentSecurityPolicy: API_CSP });
  const pages = secureHeaders({ ...common, contentSecurityPolicy: CONSOLE_CSP });
  return (c, next) => (c.req.path === '/api' || c.req.path.startsWith('/api/') ? api(c, next) : pages(c, next));
}
