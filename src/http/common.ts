import type { IncomingMessage } from 'node:http';
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { SESSION_COOKIE, userForSession } from '../accounts/sessions.ts';
import type { User } from '../accounts/users.ts';
import type { Gateway } from '../gateway.ts';

// Bindings: what @hono/node-server passes as env (the raw request, for the socket's address).
export type Env = { Variables: { user: User; gw: Gateway }; Bindings: { incoming: IncomingMessage } };

/** One problem with a request: where (a path into the body, or the parameter's name) and what. */
export interface Issue {
  path: (string | number)[];
  message: string;
}

/** A 4xx answer in the management API's error shape `{error: {message, code, issues?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly issues?: Issue[],
  ) {
    super(message);
  }
}

export function errorResponse(c: Context, err: unknown) {
  if (err instanceof ApiError) {
    const error = { message: err.message, code: err.code, ...(err.issues ? { issues: err.issues } : {}) };
    return c.json({ error }, err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    // Raised by hono's own validator (an empty body declared as JSON) and the media-type gate.
    if (err.status === 400 && /json/i.test(err.message)) return c.json({ error: { message: 'The request body must be valid JSON.', code: 'invalid_json' } }, 400);
    if (err.status === 415) return c.json({ error: { message: JSON_ONLY, code: 'unsupported_media_type' } }, 415);
    return c.json({ error: { message: err.message || 'Request refused', code: 'http_error' } }, err.status);
  }
  c.get('gw')?.log.error({ err }, 'management API fault');
  return c.json({ error: { message: 'Internal error. It has been logged.', code: 'server_error' } }, 500);
}

export const JSON_ONLY = 'Send the request body as JSON (Content-Type: application/json).';

/** Every problem zod found, with the place it names. */
export function issuesOf(error: ZodError): Issue[] {
  return error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
}

const where = (path: Issue['path']) => (path.length ? `${path.join('.')}: ` : '');

/**
 * What a failed schema check answers: 400 `invalid_request` listing every problem (the message joins
 * them, so clients that show only `message` still see all). A numeric path id that is not a valid id
 * names no resource: 404, as before the schemas.
 */
export const validationHook: Hook<any, Env, any, any> = (result) => {
  if (result.success) return;
  const issues = issuesOf(result.error);
  if (result.target === 'param' && issues.some((i) => i.path[0] === 'id')) throw new ApiError(404, 'not_found', 'No such id.');
  const prefix = { query: 'query parameter ', param: 'path parameter ', header: 'header ' }[result.target as string] ?? '';
  const message = issues.map((i) => `${prefix}${where(i.path)}${i.message}`).join('; ');
  throw new ApiError(400, 'invalid_request', message, {}, issues);
};

/** A router whose declared schemas are validated with the management API's error shape. */
export const routes = () => new OpenAPIHono<Env>({ defaultHook: validationHook });

export const requireUser: MiddlewareHandler<Env> = async (c, next) => {
  const token = getCookie(c, SESSION_COOKIE);
  const user = token ? await userForSession(c.get('gw').db, token) : undefined;
  if (!user) throw new ApiError(401, 'unauthenticated', 'Log in first (POST /api/auth/login).');
  c.set('user', user);
  await next();
};

export const requireAdmin: MiddlewareHandler<Env> = async (c, next) => {
  const role = c.get('user').role;
  if (role !== 'admin' && role !== 'root') throw new ApiError(403, 'forbidden', 'This needs an admin account.');
  await next();
};
