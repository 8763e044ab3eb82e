import { Hono } from 'hono';
import { z } from 'zod';
import { CHANNEL_TYPES, type Channel, type ChannelInput } from '../../channels/registry.ts';
import { formatMicros, parseMicros } from '../../lib/money.ts';
import { describePrice } from '../../pricing/catalog.ts';
import { ApiError, body, intParam, type Env } from '../common.ts';

const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const channelFields = {
  name: z.string().trim().min(1).max(128),
  type: z.enum(CHANNEL_TYPES as [string, ...string[]]),
  baseUrl: httpUrl,
  apiKey: z.string().min(1).max(4096),
  models: z.array(z.string().min(1).max(128)).min(1).max(2000),
  groups: z.array(z.string().min(1).max(64)).min(1).max(100),
  priority: z.number().int().min(-1_000_000).max(1_000_000),
  weight: z.number().int().min(0).max(1_000_000),
  modelMapping: z.record(z.string().min(1).max(128), z.string().min(1).max(128)),
  enabled: z.boolean(),
};
export const channelCreate = z.object({
  ...channelFields,
  groups: channelFields.groups.optional(),
  priority: channelFields.priority.optional(),
  weight: channelFields.weight.optional(),
  modelMapping: channelFields.modelMapping.optional(),
  enabled: channelFields.enabled.optional(),
});
export const channelPatch = z.object(channelFields).partial();

/** The admin view of a channel: the upstream secret is write-only. */
function publicChannel(ch: Channel) {
  const { apiKey, ...rest } = ch;
  return {
    ...rest,
    apiKey: ch.problem ? null : apiKey.length > 8 ? `${apiKey.slice(0, 3)}…${apiKey.slice(-4)}` : '…',
    createdAt: new Date(ch.createdAt).toISOString(),
    updatedAt: new Date(ch.updatedAt).toISOString(),
  };
}

const usd = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const m = parseMicros(v);
  if (m === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a non-negative USD amount with at most 6 decimals, e.g. "2.5"' });
    return z.NEVER;
  }
  return m;
});
export const priceSchema = z.object({
  input: usd.optional(),
  output: usd.optional(),
  cachedInput: usd.nullable().optional(),
  cacheWrite: usd.nullable().optional(),
  perRequest: usd.nullable().optional(),
  // The model's output cap per choice (tokens): bounds the hold whatever max_tokens the caller sends.
  maxOutputTokens: z.number().int().min(1).max(10_000_000).nullable().optional(),
});
export const groupSchema = z.object({ multiplier: usd, description: z.string().max(256).optional(), selectable: z.boolean().optional() });
const groupName = /^[A-Za-z0-9_.-]{1,64}$/;

export const adminCatalogRoutes = new Hono<Env>()
  .post('/channels', async (c) => {
    const gw = c.get('gw');
    const b = await body(c, channelCreate);
    const input: ChannelInput = {
      ...b,
      type: b.type as Channel['type'],
      groups: b.groups ?? [gw.settings.current.defaultGroup],
      priority: b.priority ?? 0,
      weight: b.weight ?? 1,
      modelMapping: b.modelMapping ?? {},
      enabled: b.enabled ?? true,
    };
    const id = await gw.channels.create(input);
    await gw.bus.publish('catalog');
    return c.json({ id }, 201);
  })
  .get('/channels', (c) => c.json({ items: c.get('gw').channels.all.map(publicChannel) }))
  .get('/channels/:id', (c) => {
    const ch = c.get('gw').channels.get(intParam(c, 'id'));
    if (!ch) throw new ApiError(404, 'not_found', 'No such channel.');
    return c.json(publicChannel(ch));
  })
  .patch('/channels/:id', async (c) => {
    const gw = c.get('gw');
    const id = intParam(c, 'id');
    const b = await body(c, channelPatch);
    const ch = gw.channels.get(id);
    if (!ch) throw new ApiError(404, 'not_found', 'No such channel.');
    const { id: _id, createdAt: _c, updatedAt: _u, problem: _p, ...current } = ch;
    await gw.channels.update(id, { ...current, ...b, type: (b.type ?? ch.type) as Channel['type'] });
    await gw.bus.publish('catalog');
    return c.json(publicChannel(gw.channels.get(id)!));
  })
  .delete('/channels/:id', async (c) => {
    const gw = c.get('gw');
    if (!(await gw.channels.remove(intParam(c, 'id')))) throw new ApiError(404, 'not_found', 'No such channel.');
    await gw.bus.publish('catalog');
    return c.json({ ok: true });
  })
  .get('/prices', (c) => {
    const prices = [...c.get('gw').pricing.prices.entries()].map(([model, p]) => ({ model, ...describePrice(p) }));
    return c.json({ items: prices });
  })
  .put('/prices/:model', async (c) => {
    const gw = c.get('gw');
    const model = c.req.param('model');
    const b = await body(c, priceSchema);
    if (b.perRequest == null && (b.input === undefined || b.output === undefined)) {
      throw new ApiError(400, 'invalid_request', 'Give input and output (USD per 1M tokens), or perRequest (USD per call).');
    }
    await gw.pricing.setPrice(model, {
      input: b.input ?? 0n,
      output: b.output ?? 0n,
      cachedInput: b.cachedInput ?? null,
      cacheWrite: b.cacheWrite ?? null,
      perRequest: b.perRequest ?? null,
      maxOutputTokens: b.maxOutputTokens ?? null,
    });
    await gw.bus.publish('catalog');
    return c.json({ model, ...describePrice(gw.pricing.prices.get(model)!) });
  })
  .delete('/prices/:model', async (c) => {
    const gw = c.get('gw');
    if (!(await gw.pricing.deletePrice(c.req.param('model')))) throw new ApiError(404, 'not_found', 'No price for that model.');
    await gw.bus.publish('catalog');
    return c.json({ ok: true });
  })
  .get('/groups', (c) => {
    const items = [...c.get('gw').pricing.groups.values()].map((g) => ({ ...g, multiplier: formatMicros(g.multiplier) }));
    return c.json({ items });
  })
  .put('/groups/:name', async (c) => {
    const gw = c.get('gw');
    const name = c.req.param('name');
    if (!groupName.test(name)) throw new ApiError(400, 'invalid_request', 'Group names are 1–64 letters, digits, _ . or -.');
    const b = await body(c, groupSchema);
    const current = gw.pricing.groups.get(name);
    await gw.pricing.setGroup({
      name,
      multiplier: b.multiplier,
      description: b.description ?? current?.description ?? '',
      selectable: b.selectable ?? current?.selectable ?? false,
    });
    await gw.bus.publish('catalog');
    const g = gw.pricing.groups.get(name)!;
    return c.json({ ...g, multiplier: formatMicros(g.multiplier) });
  });
