// Rules for what a browser may send to the management API. The session is a cookie the browser adds
// by itself, so a page on another origin (a sibling port or subdomain included) could otherwise make
// an admin's browser credit a user or add a channel with a form or a text/plain fetch.
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, JSON_ONLY, type Env } from './common.ts';

/**
 * Paths called by other servers, not browsers (payment providers' notifications): they carry no
 * session, come from foreign origins and send forms. They are exempt from the origin and JSON rules
 * and must authenticate each call themselves (a signature).
 */
export const EXEMPT_FROM_BROWSER_RULES: readonly string[] = ['/api/payment/notify/'];

export const isExemptFromBrowserRules = (path: string) => EXEMPT_FROM_BROWSER_RULES.some((prefix) => path.startsWith(prefix));

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function firstValue(v: string | undefined): string | undefined {
  return v?.split(',')[0]?.trim() || undefined;
}

/** Why a state-changing request must be refused as cross-origin, or null when it may proceed. */
export function crossOriginProblem(c: Context<Env>): string | null {
  const { TRUST_PROXY, TRUSTED_ORIGINS } = c.get('gw').config;
  const origin = c.req.header('origin');
  if (origin !== undefined && TRUSTED_ORIGINS.includes(origin)) return null;
  // Sent by every current browser; 'none' is a user typing the URL, 'same-site' a sibling subdomain or port.
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  // No Origin: not a browser (curl, SDKs, scripts), or one old enough to send neither header.
  if (origin === undefined) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `Origin ${origin}`; // includes "null" (sandboxed frames, file: pages)
  }
  const host = (TRUST_PROXY && firstValue(c.req.header('x-forwarded-host'))) || c.req.header('host');
  // The scheme is known only behind a trusted proxy; node:http itself serves plain HTTP, and a
  // TLS-terminating proxy without TRUST_PROXY would otherwise lock its own console out.
  const proto = TRUST_PROXY ? firstValue(c.req.header('x-forwarded-proto'))?.toLowerCase() : undefined;
  const schemeOk = proto ? url.protocol === `${proto}:` : url.protocol === 'http:' || url.protocol === 'https:';
  return schemeOk && url.host === host ? null : `Origin ${origin}`;
}

/** Refuses cross-origin state changes (403 `forbidden_origin`). */
export const sameOriginOnly: MiddlewareHandler<Env> = async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method) && !isExemptFromBrowserRules(c.req.path)) {
    const problem = crossOriginProblem(c);
    if (problem) {
      throw new ApiError(
        403,
        'forbidden_origin',
        `Cross-origin requests may not change anything (${problem}). Use the console at this gateway's own address, or list the origin in TRUSTED_ORIGINS.`,
      );
    }
  }
  await next();
};

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

/**
 * A state-changing request with a body must send it as JSON (415 `unsupported_media_type`), and it must
 * parse (400 `invalid_json`). Forms and text/plain are what a foreign page can send without a
 * preflight, so they are never read as commands. Runs after the body-size limit.
 */
export const jsonBodiesOnly: MiddlewareHandler<Env> = async (c, next) => {
  if (SAFE_METHODS.has(c.req.method) || isExemptFromBrowserRules(c.req.path)) return next();
  const length = c.req.header('content-length');
  const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
  const type = c.req.header('content-type');
  const isJson = type !== undefined && JSON_MEDIA.test(type.split(';')[0]!.trim());
  if (hasBody && !isJson) throw new ApiError(415, 'unsupported_media_type', JSON_ONLY);
  if (hasBody) {
    // Parsed once here (hono caches the body) so bad JSON gets our error, whichever route it is for.
    const text = await c.req.text();
    if (text.trim() !== '') {
      try {
        JSON.parse(text);
      } catch {
        throw new ApiError(400, 'invalid_json', 'The request body must be valid JSON.');
      }
    }
  }
  await next();
};
