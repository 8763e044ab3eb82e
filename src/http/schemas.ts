// Schemas shared by several management routes: answers (money, errors, pages) and query parameters.
// Each is declared once; the routes validate with them and /api/openapi.json is generated from them.
import { z } from '@hono/zod-openapi';

export const Money = z
  .object({ quota: z.number().int().openapi({ description: 'Integer quota points (500,000 = 1 USD)' }), usd: z.string().openapi({ example: '0.500000' }) })
  .openapi('Money');

export const Issue = z.object({
  path: z.array(z.union([z.string(), z.number()])).openapi({ description: 'Where: a path into the JSON body, or the parameter name' }),
  message: z.string(),
});

export const ErrorBody = z
  .object({
    error: z.object({
      message: z.string().openapi({ description: 'Human-readable; lists every problem for invalid_request' }),
      code: z.string().openapi({ example: 'invalid_request' }),
      issues: z.array(Issue).optional().openapi({ description: 'Present for invalid_request: every problem found' }),
    }),
  })
  .openapi('Error');

export const Ok = z.object({ ok: z.literal(true) }).openapi('Ok');

const iso = z.string().openapi({ format: 'date-time' });
export const IsoTime = iso;
export const NullableIsoTime = iso.nullable();

/** The usual `{items, total, page, pageSize}` answer around one item schema. */
export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.number().int(), page: z.number().int(), pageSize: z.number().int() });

// --- Query parameters: bounded so no value reaches the database as something it cannot hold. ---

const MAX_PAGE = 10_000_000;
export const Pagination = z.object({
  page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1).openapi({ description: '1-based page number', example: 1 }),
  pageSize: z.coerce.number().int().min(1).max(200).default(20).openapi({ description: 'Rows per page (max 200)', example: 20 }),
});

// JavaScript dates end at ±8.64e15 ms; larger values would overflow a BIGINT comparison on PostgreSQL anyway.
const MAX_TIME_MS = 8_640_000_000_000_000;
/** An instant as unix milliseconds or an ISO 8601 date(-time), parsed to unix milliseconds. */
export const TimeParam = z
  .string()
  .transform((v, ctx) => {
    if (v === '') return undefined; // an empty field in a form means no filter
    const t = /^\d{1,16}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(t) || t > MAX_TIME_MS) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO date or unix milliseconds' });
      return z.NEVER;
    }
    return t;
  })
  .openapi({ type: 'string', description: 'ISO 8601 date(-time) or unix milliseconds', example: '2026-11-27T00:00:00Z' });

/** A database id: a positive safe integer. */
export const Id = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const IdParam = z.object({ id: Id.openapi({ param: { name: 'id', in: 'path' }, example: 1 }) });

/** The answers every route may give besides its success. */
export const errorResponses = {
  400: { description: 'Invalid request: `invalid_request` (with `issues`), `invalid_json`, …', content: { 'application/json': { schema: ErrorBody } } },
  403: { description: 'Refused (`forbidden_origin` for a cross-origin browser request, …)', content: { 'application/json': { schema: ErrorBody } } },
  415: { description: 'The body is not JSON (`unsupported_media_type`)', content: { 'application/json': { schema: ErrorBody } } },
} as const;
export const sessionErrors = {
  ...errorResponses,
  401: { description: 'Not logged in (`unauthenticated`)', content: { 'application/json': { schema: ErrorBody } } },
  404: { description: 'Not found (`not_found`)', content: { 'application/json': { schema: ErrorBody } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export const SESSION = [{ session: [] }];
