import { Hono } from 'hono';
import { z } from 'zod';
import { deleteKey, getKey, insertKey, listKeys, maskKey, updateKey, type ApiKey, type KeyFields } from '../../accounts/keys.ts';
import type { User } from '../../accounts/users.ts';
import type { Gateway } from '../../gateway.ts';
import { parseIpRange } from '../../lib/ip.ts';
import { money } from '../../lib/money.ts';
import { ApiError, body, intParam, requireUser, type Env } from '../common.ts';

const expiresAt = z.union([z.iso.datetime({ offset: true }), z.number().int().positive(), z.null()]);
const fields = {
  name: z.string().trim().min(1).max(64),
  group: z.string().min(1).max(64),
  expiresAt,
  quotaLimit: z.number().int().min(0).max(1e15).nullable(),
  models: z.array(z.string().min(1).max(128)).max(1000),
  allowIps: z.array(z.string().max(64).refine((v) => parseIpRange(v) !== null, 'must be an IP address or CIDR range')).max(1000),
};
export const keyCreateSchema = z.object({ ...fields, group: fields.group.optional(), expiresAt: expiresAt.optional(), quotaLimit: fields.quotaLimit.optional(), models: fields.models.optional(), allowIps: fields.allowIps.optional() });
export const keyPatchSchema = z.object({ ...fields, enabled: z.boolean() }).partial();

const toMs = (v: string | number | null | undefined) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Date.parse(v));

export function publicKey(k: ApiKey) {
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

export const keyRoutes = new Hono<Env>()
  .use('/keys', requireUser)
  .use('/keys/*', requireUser)
  .post('/keys', async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const b = await body(c, keyCreateSchema);
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
  .get('/keys', async (c) => {
    const keys = await listKeys(c.get('gw').db, c.get('user').id);
    return c.json({ items: keys.map(publicKey) });
  })
  .get('/keys/:id', async (c) => {
    const k = await getKey(c.get('gw').db, c.get('user').id, intParam(c, 'id'));
    if (!k) throw new ApiError(404, 'not_found', 'No such key.');
    return c.json(publicKey(k));
  })
  .patch('/keys/:id', async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const id = intParam(c, 'id');
    const b = await body(c, keyPatchSchema);
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
    return c.json(publicKey(updated!));
  })
  .delete('/keys/:id', async (c) => {
    const gw = c.get('gw');
    const hash = await deleteKey(gw.db, c.get('user').id, intParam(c, 'id'));
    if (!hash) throw new ApiError(404, 'not_found', 'No such key.');
    await gw.bus.publish('keys', hash);
    return c.json({ ok: true });
  });

async function keyHashOf(gw: Gateway, id: number): Promise<string | undefined> {
  return (await gw.db.get<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = ?', [id]))?.key_hash;
}

