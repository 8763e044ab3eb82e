import { createRoute, z } from '@hono/zod-openapi';
import { deleteKey, getKey, insertKey, listKeys, maskKey, updateKey, type ApiKey, type KeyFields } from '../../accounts/keys.ts';
import type { User } from '../../accounts/users.ts';
import type { Gateway } from '../../gateway.ts';
import { parseIpRange } from '../../lib/ip.ts';
import { money } from '../../lib/money.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { IdParam, IsoTime, json, jsonBody, Money, NullableIsoTime, Ok, SESSION, sessionErrors } from '../schemas.ts';

// The last millisecond of year 9999: later numbers are past what a Date (and an ISO string) can hold.
const MAX_TIME_MS = 253_402_300_799_999;
const expiresAt = z
  .union([z.iso.datetime({ offset: true }), z.number().int().positive().max(MAX_TIME_MS), z.null()])
  .openapi({ description: 'ISO date-time or unix ms; null = never' });
const fields = {
  name: z.string().trim().min(1).max(64),
  group: z.string().min(1).max(64),
  expiresAt,
  quotaLimit: z.number().int().min(0).max(1e15).nullable().openapi({ description: 'Integer points the key may spend; null = unlimited' }),
  models: z.array(z.string().min(1).max(128)).max(1000).openapi({ description: 'Allowed models; empty = all' }),
  allowIps: z
    .array(z.string().max(64).refine((v) => parseIpRange(v) !== null, 'must be an IP address or CIDR range'))
    .max(1000)
    .openapi({ description: 'Allowed client addresses (IP or CIDR); empty = all' }),
};
export const keyCreateSchema = z.object({
  ...fields,
  group: fields.group.optional(),
  expiresAt: expiresAt.optional(),
  quotaLimit: fields.quotaLimit.optional(),
  models: fields.models.optional(),
  allowIps: fields.allowIps.optional(),
});
export const keyPatchSchema = z.object({ ...fields, enabled: z.boolean() }).partial();

export const KeySchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    maskedKey: z.string(),
    group: z.string(),
    enabled: z.boolean(),
    expiresAt: NullableIsoTime,
    quotaLimit: z.union([Money, z.null()]).openapi({ description: 'null = unlimited' }), // not Money.nullable(): that would make the Money component itself nullable
    used: Money,
    requestCount: z.number().int(),
    models: z.array(z.string()),
    allowIps: z.array(z.string()),
    createdAt: IsoTime,
    lastUsedAt: NullableIsoTime,
  })
  .openapi('Key');
const CreatedKey = KeySchema.extend({ key: z.string().openapi({ description: 'The full sk-… key: shown only in this answer' }) }).openapi('CreatedKey');

const toMs = (v: string | number | null | undefined) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Date.parse(v));

export function publicKey(k: ApiKey): z.infer<typeof KeySchema> {
  return {
    id: k.id,
    name: k.name,
    maskedKey: maskKey(k.hint),
    group: k.group,
    enabled: k.enabled,
    expiresAt: k.expiresAt === null ? null : new Date(k.expiresAt).toISOString(),
    quotaLimit: k.quotaLimit === null ? null : money(k.quotaLimit),
    used: money(k.used),
    requestCount: k.requestCount,
    models: k.models,
    allowIps: k.allowIps,
    createdAt: new Date(k.createdAt).toISOString(),
    lastUsedAt: k.lastUsedAt === null ? null : new Date(k.lastUsedAt).toISOString(),
  };
}

/** A key may use the owner's own group or any group the admin made selectable. */
function checkGroup(gw: Gateway, user: User, group: string) {
  const g = gw.pricing.groups.get(group);
  if (!g || (group !== user.group && !g.selectable)) throw new ApiError(400, 'invalid_group', `Group "${group}" does not exist or is not available to you.`);
}

const base = { tags: ['keys'], security: SESSION, middleware: [requireUser] };
const create = createRoute({
  ...base,
  method: 'post',
  path: '/keys',
  summary: 'Create an API key; the full key is returned only here',
  request: { body: jsonBody(keyCreateSchema) },
  responses: { 201: json(CreatedKey, 'Created'), ...sessionErrors },
});
const list = createRoute({ ...base, method: 'get', path: '/keys', summary: 'List keys (masked) with usage', responses: { 200: json(z.object({ items: z.array(KeySchema) })), ...sessionErrors } });
const one = createRoute({ ...base, method: 'get', path: '/keys/{id}', summary: 'One key (masked)', request: { params: IdParam }, responses: { 200: json(KeySchema), ...sessionErrors } });
const patch = createRoute({
  ...base,
  method: 'patch',
  path: '/keys/{id}',
  summary: 'Change a key, including enabled',
  request: { params: IdParam, body: jsonBody(keyPatchSchema) },
  responses: { 200: json(KeySchema), ...sessionErrors },
});
const remove = createRoute({ ...base, method: 'delete', path: '/keys/{id}', summary: 'Delete a key', request: { params: IdParam }, responses: { 200: json(Ok), ...sessionErrors } });

export const keyRoutes = routes()
  .openapi(create, async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const b = c.req.valid('json');
    const f: KeyFields = {
      name: b.name,
      group: b.group ?? user.group,
      enabled: true,
      expiresAt: toMs(b.expiresAt),
      quotaLimit: b.quotaLimit ?? null,
      models: b.models ?? [],
      allowIps: b.allowIps ?? [],
    };
    checkGroup(gw, user, f.group);
    const { key, row } = await insertKey(gw.db, user.id, f);
    return c.json({ ...publicKey(row), key }, 201);
  })
  .openapi(list, async (c) => {
    const keys = await listKeys(c.get('gw').db, c.get('user').id);
    return c.json({ items: keys.map(publicKey) }, 200);
  })
  .openapi(one, async (c) => {
    const k = await getKey(c.get('gw').db, c.get('user').id, c.req.valid('param').id);
    if (!k) throw new ApiError(404, 'not_found', 'No such key.');
    return c.json(publicKey(k), 200);
  })
  .openapi(patch, async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const { id } = c.req.valid('param');
    const b = c.req.valid('json');
    const k = await getKey(gw.db, user.id, id);
    if (!k) throw new ApiError(404, 'not_found', 'No such key.');
    const f: KeyFields = {
      name: b.name ?? k.name,
      group: b.group ?? k.group,
      enabled: b.enabled ?? k.enabled,
      expiresAt: b.expiresAt === undefined ? k.expiresAt : toMs(b.expiresAt),
      quotaLimit: b.quotaLimit === undefined ? k.quotaLimit : b.quotaLimit,
      models: b.models ?? k.models,
      allowIps: b.allowIps ?? k.allowIps,
    };
    if (b.group !== undefined) checkGroup(gw, user, f.group);
    const updated = await updateKey(gw.db, id, f);
    await gw.bus.publish('keys', (await keyHashOf(gw, id)) ?? '');
    return c.json(publicKey(updated!), 200);
  })
  .openapi(remove, async (c) => {
    const gw = c.get('gw');
    const hash = await deleteKey(gw.db, c.get('user').id, c.req.valid('param').id);
    if (!hash) throw new ApiError(404, 'not_found', 'No such key.');
    await gw.bus.publish('keys', hash);
    return c.json({ ok: true as const }, 200);
  });

async function keyHashOf(gw: Gateway, id: number): Promise<string | undefined> {
  return (await gw.db.get<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = ?', [id]))?.key_hash;
}
