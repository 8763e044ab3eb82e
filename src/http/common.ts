import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import { SESSION_COOKIE, userForSession } from '../accounts/sessions.ts';
import type { User } from '../accounts/users.ts';
import type { Gateway } from '../gateway.ts';

// Bindings: what @hono/node-server passes as env (the raw request, for the socket's address).
export type Env = { Variables: { user: User; gw: Gateway }; Bindings: { incoming: IncomingMessage } };

/** A 4xx answer in the management API's error shape `{error: {message, code}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorResponse(c: Context, err: unknown) {
  if (err instanceof ApiError) return c.json({ error: { message: err.message, code: err.code } }, err.status, err.headers);
  if (err instanceof HTTPException) return c.json({ error: { message: err.message || 'Request refused', code: 'http_error' } }, err.status);
  c.get('gw')?.log.error({ err }, 'management API fault');
  return c.json({ error: { message: 'Internal error. It has been logged.', code: 'server_error' } }, 500);
}

/** Parses and validates a JSON body; bad JSON or a schema failure is a 400 that names the field. */
export async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body must be valid JSON.');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new ApiError(400, 'invalid_request', `${where}${issue.message}`);
  }
  return parsed.data;
}

export function intParam(c: Context, name: string): number {
  const v = Number(c.req.param(name));
  if (!Number.isSafeInteger(v) || v <= 0) throw new ApiError(404, 'not_found', `No such ${name}.`);
  return v;
}

export function pagination(c: Context): { page: number; pageSize: number } {
  const page = Math.max(1, Math.floor(Number(c.req.query('page') ?? 1)) || 1);
  const pageSize = Math.min(200, Math.max(1, Math.floor(Number(c.req.query('pageSize') ?? 20)) || 20));
  return { page, pageSize };
}

/** Accepts an ISO date or unix milliseconds. */
export function parseTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new ApiError(400, 'invalid_request', `${name} must be an ISO date or unix milliseconds.`);
  return t;
}

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
