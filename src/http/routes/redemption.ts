// Redemption codes: the admin generates, lists and disables batches; a user redeems a code.
import { createRoute, z } from '@hono/zod-openapi';
import { registrationBucket } from '../../accounts/registration-limit.ts';
import { money, parseMicros } from '../../lib/money.ts';
import { beginAttempt, forget, pruneAttempts, RedeemLimitError } from '../../wallet/redeem-limit.ts';
import { createBatch, getBatch, listBatches, listCodes, normalizeCode, redeemCode, setBatchEnabled, setCodeEnabled, type BatchView } from '../../wallet/redemption.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { ErrorBody, Id, IdParam, IsoTime, json, jsonBody, Money, NullableIsoTime, page, Pagination, SESSION, sessionErrors } from '../schemas.ts';
import { callerIp } from './auth.ts';

const MAX_CODE_QUOTA = 1e13;

export const batchCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    quota: z.number().int().min(1).max(MAX_CODE_QUOTA).optional().openapi({ description: 'Value of each code in points (give this or usd)' }),
    usd: z
      .string()
      .regex(/^\d{1,8}(\.\d{1,6})?$/, 'usd must be a decimal string with at most 6 decimals, e.g. "5" or "0.5"')
      .optional()
      .openapi({ description: 'Value of each code in USD (give this or quota)', example: '5' }),
    count: z.number().int().min(1).max(1000).openapi({ description: 'How many codes (1–1000)' }),
    expiresAt: z
      // JavaScript dates end at 8.64e15 ms: a later instant could not be shown (or stored in a BIGINT).
      .union([z.iso.datetime({ offset: true }), z.number().int().positive().max(8_640_000_000_000_000), z.null()])
      .optional()
      .openapi({ description: 'ISO date-time or unix ms; absent or null = never' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.quota === undefined) === (b.usd === undefined)) ctx.addIssue({ code: 'custom', path: ['quota'], message: 'give exactly one of quota or usd' });
    if (b.usd !== undefined) {
      const micros = parseMicros(b.usd);
      // 1 point = 0.000002 USD: a value between two points cannot be credited exactly.
      if (micros === null || micros === 0n || micros % 2n !== 0n) ctx.addIssue({ code: 'custom', path: ['usd'], message: 'usd must be positive and a whole number of points (a multiple of 0.000002)' });
    }
    const at = toMs(b.expiresAt);
    if (at !== null && at <= Date.now()) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expiresAt must be in the future' });
  });

const toMs = (v: string | number | null | undefined) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Date.parse(v));

const BatchSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    value: Money.openapi({ description: 'Value of each code' }),
    count: z.number().int(),
    usedCount: z.number().int(),
    enabled: z.boolean(),
    expiresAt: NullableIsoTime,
    createdBy: z.number().int().nullable(),
    createdAt: IsoTime,
  })
  .openapi('RedemptionBatch');
const CodeSchema = z
  .object({
    id: z.number().int(),
    hint: z.string().openapi({ description: 'The last 4 characters of the code (the code itself is not stored)' }),
    enabled: z.boolean(),
    usedBy: z.number().int().nullable().openapi({ description: 'The user who redeemed it' }),
    usedAt: NullableIsoTime,
  })
  .openapi('RedemptionCode');
const CreatedSchema = z
  .object({
    batchId: z.number().int(),
    name: z.string(),
    value: Money,
    expiresAt: NullableIsoTime,
    codes: z.array(z.string()).openapi({ description: 'The codes in clear: shown only in this answer' }),
  })
  .openapi('RedemptionBatchCreated');

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
function batchView(b: BatchView): z.infer<typeof BatchSchema> {
  return { id: b.id, name: b.name, value: money(b.quota), count: b.count, usedCount: b.usedCount, enabled: b.enabled, expiresAt: iso(b.expiresAt), createdBy: b.createdBy, createdAt: iso(b.createdAt)! };
}

/** One CSV field: quoted, and a leading = + - @ defused so a spreadsheet does not run it as a formula. */
function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

const adminBase = { tags: ['admin'], security: SESSION };
const enabledBody = z.object({ enabled: z.boolean() }).strict();
const r = {
  create: createRoute({
    ...adminBase,
    method: 'post',
    path: '/redemption-codes',
    summary: 'Generate a batch of redemption codes (shown only in this answer; CSV with ?format=csv or Accept: text/csv)',
    request: { query: z.object({ format: z.enum(['json', 'csv']).optional().openapi({ description: 'csv: the codes as a CSV download' }) }), body: jsonBody(batchCreateSchema) },
    responses: {
      201: {
        description: 'Created',
        content: {
          'application/json': { schema: CreatedSchema },
          'text/csv': { schema: z.string().openapi({ description: 'Header `code,batch_id,name,quota,usd,expires_at`, one row per code' }) },
        },
      },
      ...sessionErrors,
    },
  }),
  list: createRoute({ ...adminBase, method: 'get', path: '/redemption-codes', summary: 'Redemption-code batches, newest first', request: { query: Pagination }, responses: { 200: json(page(BatchSchema)), ...sessionErrors } }),
  get: createRoute({
    ...adminBase,
    method: 'get',
    path: '/redemption-codes/{id}',
    summary: 'A batch with its codes (hints and state, never the codes)',
    request: { params: IdParam },
    responses: { 200: json(BatchSchema.extend({ codes: z.array(CodeSchema) })), ...sessionErrors },
  }),
  patchBatch: createRoute({
    ...adminBase,
    method: 'patch',
    path: '/redemption-codes/{id}',
    summary: 'Disable (or enable again) a whole batch',
    request: { params: IdParam, body: jsonBody(enabledBody) },
    responses: { 200: json(BatchSchema), ...sessionErrors },
  }),
  patchCode: createRoute({
    ...adminBase,
    method: 'patch',
    path: '/redemption-codes/{id}/codes/{codeId}',
    summary: 'Disable (or enable again) one code of a batch',
    request: { params: IdParam.extend({ codeId: Id.openapi({ param: { name: 'codeId', in: 'path' }, example: 1 }) }), body: jsonBody(enabledBody) },
    responses: { 200: json(CodeSchema), ...sessionErrors },
  }),
};

export const adminRedemptionRoutes = routes()
  .openapi(r.create, async (c) => {
    const gw = c.get('gw');
    const b = c.req.valid('json');
    const quota = b.quota ?? Number(parseMicros(b.usd)! / 2n);
    const expiresAt = toMs(b.expiresAt);
    const { batchId, codes } = await createBatch(gw.db, { name: b.name, quota, count: b.count, expiresAt, createdBy: c.get('user').id });
    const value = money(quota);
    const wantsCsv = c.req.valid('query').format === 'csv' || (c.req.valid('query').format === undefined && /\btext\/csv\b/i.test(c.req.header('accept') ?? ''));
    if (wantsCsv) {
      const rows = codes.map((code) => [code, String(batchId), csvField(b.name), String(quota), value.usd, iso(expiresAt) ?? ''].join(','));
      const csv = ['code,batch_id,name,quota,usd,expires_at', ...rows].join('\r\n') + '\r\n';
      return c.body(csv, 201, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="redemption-codes-${batchId}.csv"`, 'cache-control': 'no-store' });
    }
    c.header('cache-control', 'no-store');
    return c.json({ batchId, name: b.name, value, expiresAt: iso(expiresAt), codes }, 201);
  })
  .openapi(r.list, async (c) => {
    const { page, pageSize } = c.req.valid('query');
    const { items, total } = await listBatches(c.get('gw').db, page, pageSize);
    return c.json({ items: items.map(batchView), total, page, pageSize }, 200);
  })
  .openapi(r.get, async (c) => {
    const db = c.get('gw').db;
    const { id } = c.req.valid('param');
    const batch = await getBatch(db, id);
    if (!batch) throw new ApiError(404, 'not_found', 'No such batch.');
    const codes = (await listCodes(db, id)).map((k) => ({ ...k, usedAt: iso(k.usedAt) }));
    return c.json({ ...batchView(batch), codes }, 200);
  })
  .openapi(r.patchBatch, async (c) => {
    const db = c.get('gw').db;
    const { id } = c.req.valid('param');
    if (!(await setBatchEnabled(db, id, c.req.valid('json').enabled))) throw new ApiError(404, 'not_found', 'No such batch.');
    return c.json(batchView((await getBatch(db, id))!), 200);
  })
  .openapi(r.patchCode, async (c) => {
    const db = c.get('gw').db;
    const { id, codeId } = c.req.valid('param');
    if (!(await setCodeEnabled(db, id, codeId, c.req.valid('json').enabled))) throw new ApiError(404, 'not_found', 'No such code in this batch.');
    const code = (await listCodes(db, id)).find((k) => k.id === codeId)!;
    return c.json({ ...code, usedAt: iso(code.usedAt) }, 200);
  });

export const redeemSchema = z.object({ code: z.string().trim().min(1, 'give the code').max(64).openapi({ example: 'ABCDE-FGHJK-MNPQR-STVWX' }) }).strict();

const redeem = createRoute({
  tags: ['wallet'],
  security: SESSION,
  middleware: [requireUser],
  method: 'post',
  path: '/wallet/redeem',
  summary: 'Redeem a redemption code: its value is credited once',
  description: 'Dashes, spaces and case do not matter. Wrong codes are limited per user and per client address.',
  request: { body: jsonBody(redeemSchema) },
  responses: {
    200: json(z.object({ credited: Money, balance: Money }).openapi('Redeemed')),
    ...sessionErrors,
    400: { description: '`invalid_code` (no such code), `code_disabled`, `code_expired`, `invalid_request`', content: { 'application/json': { schema: ErrorBody } } },
    409: { description: 'The code was already redeemed (`code_already_used`)', content: { 'application/json': { schema: ErrorBody } } },
    429: {
      description: 'Too many wrong codes from this account or address (`too_many_attempts`)',
      headers: { 'Retry-After': { schema: { type: 'integer' as const } } },
      content: { 'application/json': { schema: ErrorBody } },
    },
  },
});

const REFUSALS = {
  unknown: [400, 'invalid_code', 'That redemption code does not exist.'],
  disabled: [400, 'code_disabled', 'That redemption code has been disabled.'],
  expired: [400, 'code_expired', 'That redemption code has expired.'],
  used: [409, 'code_already_used', 'That redemption code has already been redeemed.'],
} as const;

export const redeemRoutes = routes().openapi(redeem, async (c) => {
  const gw = c.get('gw');
  const user = c.get('user');
  const normalized = normalizeCode(c.req.valid('json').code);
  let attempt;
  try {
    attempt = await beginAttempt(gw.db, user.id, registrationBucket(callerIp(c)));
  } catch (err) {
    if (!(err instanceof RedeemLimitError)) throw err;
    const wait = err.retryAfterSeconds;
    throw new ApiError(429, 'too_many_attempts', `Too many wrong redemption codes. Try again in ${wait} s.`, { 'retry-after': String(wait) });
  }
  let outcome: Awaited<ReturnType<typeof redeemCode>>;
  try {
    outcome = normalized ? await redeemCode(gw.db, user.id, normalized) : { ok: false, reason: 'unknown' };
  } catch (err) {
    await forget(gw.db, attempt).catch(() => undefined); // a failure of ours is not a wrong guess
    throw err;
  }
  if (outcome.ok || outcome.reason !== 'unknown') await forget(gw.db, attempt);
  else await pruneAttempts(gw.db);
  if (!outcome.ok) {
    const [status, code, message] = REFUSALS[outcome.reason];
    throw new ApiError(status, code, message);
  }
  return c.json({ credited: money(outcome.entry.amount), balance: money(outcome.entry.balanceAfter) }, 200);
});
