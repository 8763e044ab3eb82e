import { createRoute, z } from '@hono/zod-openapi';
import type { ChannelHealth } from '../../channels/health.ts';
import { testChannel } from '../../channels/probe.ts';
import { CHANNEL_TYPES, type Channel, type ChannelInput } from '../../channels/registry.ts';
import { ChannelConfigSchema } from '../../providers/config.ts';
import { channelProblems } from '../../providers/validate.ts';
import { formatMicros } from '../../lib/money.ts';
import type { Price } from '../../pricing/cost.ts';
import { ApiError, routes } from '../common.ts';
import { PriceInput, priceView, PriceView, usdInput } from '../price-view.ts';
import { IdParam, IsoTime, json, jsonBody, Ok, SESSION, sessionErrors } from '../schemas.ts';

const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const channelFields = {
  name: z.string().trim().min(1).max(128),
  type: z.enum(CHANNEL_TYPES as [string, ...string[]]).openapi({ description: 'openai (and OpenAI-compatible vendors), anthropic, gemini (AI Studio), azure (Azure OpenAI) or vertex (Vertex AI)' }),
  baseUrl: httpUrl.openapi({
    description:
      'Without a path, the type\'s version path is added (/v1 for openai and anthropic, /v1beta for gemini, /openai for azure, /v1 for vertex); with one (https://host/v1), it is used as is',
    example: 'https://api.openai.com',
  }),
  apiKey: z
    .string()
    .min(1)
    .max(16384)
    .openapi({ description: 'The upstream secret; write-only (answers show a mask). Several keys one per line are used in rotation; vertex: the service account JSON' }),
  config: ChannelConfigSchema.openapi({ description: 'Type-specific settings (azure: apiVersion, deployments; vertex: project, location, tokenUrl) and extra headers for any type' }),
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
  config: channelFields.config.optional(),
  enabled: channelFields.enabled.optional(),
});
export const channelPatch = z.object(channelFields).partial();

const ChannelSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    type: z.enum(CHANNEL_TYPES as [string, ...string[]]),
    baseUrl: z.string(),
    apiKey: z.string().nullable().openapi({ description: 'Masked; null while the stored key cannot be decrypted' }),
    models: z.array(z.string()),
    groups: z.array(z.string()),
    priority: z.number().int(),
    weight: z.number().int(),
    modelMapping: z.record(z.string(), z.string()),
    config: ChannelConfigSchema.openapi({ description: 'Extra header values are masked' }),
    enabled: z.boolean(),
    problem: z.string().nullable().openapi({ description: 'Why an enabled channel gets no traffic, or null' }),
    status: z.enum(['ok', 'auto_disabled']).openapi({ description: "Health: auto_disabled takes the channel out of traffic until a probe or a test passes (or it is enabled again)" }),
    statusReason: z.string().nullable().openapi({ description: 'Why it was auto-disabled (failures, or the upstream refusing its key), else null' }),
    statusAt: IsoTime.nullable().openapi({ description: 'When the status last changed' }),
    recentFailures: z.number().int().openapi({ description: "Failures among this instance's recent attempts (the window of channelFailureWindow)" }),
    recentAttempts: z.number().int(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  })
  .openapi('Channel');

const ChannelTestSchema = z
  .object({
    latency: z.number().int().openapi({ description: 'Milliseconds until the answer (or the failure)' }),
    status: z.number().int().openapi({ description: "The upstream's HTTP status; 502 when it could not be reached, 504 when it did not answer in time" }),
    error: z.string().optional().openapi({ description: "The upstream's error message, when the call did not succeed" }),
  })
  .openapi('ChannelTest');

/** The admin view of a channel: the upstream secret is write-only. */
function publicChannel(ch: Channel, health: ChannelHealth): z.infer<typeof ChannelSchema> {
  const { apiKey, config, ...rest } = ch;
  const headers = config.headers ? Object.fromEntries(Object.keys(config.headers).map((name) => [name, '…'])) : undefined;
  const recent = health.recent(ch.id);
  return {
    ...rest,
    config: { ...config, ...(headers ? { headers } : {}) },
    statusAt: ch.statusAt === null ? null : new Date(ch.statusAt).toISOString(),
    recentFailures: recent.failures,
    recentAttempts: recent.attempts,
    apiKey: ch.problem ? null : ch.type === 'vertex' ? '{…}' : maskKeys(apiKey),
    createdAt: new Date(ch.createdAt).toISOString(),
    updatedAt: new Date(ch.updatedAt).toISOString(),
  };
}

/** Each key of a rotation list masked on its own line. */
const maskKeys = (apiKey: string) =>
  apiKey
    .split(/\r?\n/)
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => (k.length > 8 ? `${k.slice(0, 3)}…${k.slice(-4)}` : '…'))
    .join('\n');

/** Refuses a channel whose key or config does not fit its type, naming the field. */
function checkChannel(c: ChannelInput, keyGiven: boolean): void {
  const issues = channelProblems(c.type, keyGiven ? c.apiKey : null, c.config);
  if (issues.length) throw new ApiError(400, 'invalid_request', issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), {}, issues);
}

export const groupSchema = z.object({
  multiplier: usdInput.openapi({ description: 'Price multiplier, at most 6 decimals', example: '1.5' }),
  description: z.string().max(256).optional(),
  selectable: z.boolean().optional().openapi({ description: 'Users may put their keys in this group' }),
});
const GroupSchema = z.object({ name: z.string(), multiplier: z.string(), description: z.string(), selectable: z.boolean() }).openapi('Group');

const ModelParam = z.object({ model: z.string().min(1).max(128).openapi({ param: { name: 'model', in: 'path' }, example: 'gpt-4o-mini' }) });
const GroupParam = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'group names are 1–64 letters, digits, _ . or -')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'default' }),
});

const base = { tags: ['admin'], security: SESSION };
const r = {
  createChannel: createRoute({
    ...base,
    method: 'post',
    path: '/channels',
    summary: 'Add an upstream channel',
    request: { body: jsonBody(channelCreate) },
    responses: { 201: json(z.object({ id: z.number().int() }), 'Created'), ...sessionErrors },
  }),
  listChannels: createRoute({ ...base, method: 'get', path: '/channels', summary: 'List channels (secrets masked)', responses: { 200: json(z.object({ items: z.array(ChannelSchema) })), ...sessionErrors } }),
  getChannel: createRoute({ ...base, method: 'get', path: '/channels/{id}', summary: 'One channel', request: { params: IdParam }, responses: { 200: json(ChannelSchema), ...sessionErrors } }),
  patchChannel: createRoute({
    ...base,
    method: 'patch',
    path: '/channels/{id}',
    summary: 'Change a channel',
    request: { params: IdParam, body: jsonBody(channelPatch) },
    responses: { 200: json(ChannelSchema), ...sessionErrors },
  }),
  testChannel: createRoute({
    ...base,
    method: 'post',
    path: '/channels/{id}/test',
    summary: 'Test a channel: one minimal call (one output token) to its first model; a pass re-enables an auto-disabled channel',
    request: { params: IdParam },
    responses: { 200: json(ChannelTestSchema), ...sessionErrors },
  }),
  deleteChannel: createRoute({ ...base, method: 'delete', path: '/channels/{id}', summary: 'Delete a channel', request: { params: IdParam }, responses: { 200: json(Ok), ...sessionErrors } }),
  listPrices: createRoute({ ...base, method: 'get', path: '/prices', summary: 'List model prices', responses: { 200: json(z.object({ items: z.array(PriceView) })), ...sessionErrors } }),
  putPrice: createRoute({
    ...base,
    method: 'put',
    path: '/prices/{model}',
    summary: 'Set a model price (USD per 1M tokens, or per request)',
    request: { params: ModelParam, body: jsonBody(PriceInput) },
    responses: { 200: json(PriceView), ...sessionErrors },
  }),
  deletePrice: createRoute({ ...base, method: 'delete', path: '/prices/{model}', summary: 'Remove a model price', request: { params: ModelParam }, responses: { 200: json(Ok), ...sessionErrors } }),
  listGroups: createRoute({ ...base, method: 'get', path: '/groups', summary: 'List groups', responses: { 200: json(z.object({ items: z.array(GroupSchema) })), ...sessionErrors } }),
  putGroup: createRoute({
    ...base,
    method: 'put',
    path: '/groups/{name}',
    summary: 'Create or change a group and its price multiplier',
    request: { params: GroupParam, body: jsonBody(groupSchema) },
    responses: { 200: json(GroupSchema), ...sessionErrors },
  }),
};

const groupView = (g: { name: string; multiplier: bigint; description: string; selectable: boolean }) => ({ ...g, multiplier: formatMicros(g.multiplier) });

export const adminCatalogRoutes = routes()
  .openapi(r.createChannel, async (c) => {
    const gw = c.get('gw');
    const b = c.req.valid('json');
    const input: ChannelInput = {
      ...b,
      type: b.type as Channel['type'],
      groups: b.groups ?? [gw.settings.current.defaultGroup],
      priority: b.priority ?? 0,
      weight: b.weight ?? 1,
      modelMapping: b.modelMapping ?? {},
      config: b.config ?? {},
      enabled: b.enabled ?? true,
    };
    checkChannel(input, true);
    const id = await gw.channels.create(input);
    await gw.bus.publish('catalog');
    return c.json({ id }, 201);
  })
  .openapi(r.listChannels, (c) => {
    const gw = c.get('gw');
    return c.json({ items: gw.channels.all.map((ch) => publicChannel(ch, gw.health)) }, 200);
  })
  .openapi(r.getChannel, (c) => {
    const gw = c.get('gw');
    const ch = gw.channels.get(c.req.valid('param').id);
    if (!ch) throw new ApiError(404, 'not_found', 'No such channel.');
    return c.json(publicChannel(ch, gw.health), 200);
  })
  .openapi(r.testChannel, async (c) => {
    const gw = c.get('gw');
    const ch = gw.channels.get(c.req.valid('param').id);
    if (!ch) throw new ApiError(404, 'not_found', 'No such channel.');
    const result = await testChannel(ch, gw.pools, gw.config);
    if (result.status < 400 && ch.status === 'auto_disabled') await gw.health.enable(ch, `test answered HTTP ${result.status}`);
    return c.json(result, 200);
  })
  .openapi(r.patchChannel, async (c) => {
    const gw = c.get('gw');
    const { id } = c.req.valid('param');
    const b = c.req.valid('json');
    const ch = gw.channels.get(id);
    if (!ch) throw new ApiError(404, 'not_found', 'No such channel.');
    const { id: _id, createdAt: _c, updatedAt: _u, problem: _p, status: _s, statusReason: _r, statusAt: _a, ...current } = ch;
    // config is merged field by field: a patch without `headers` keeps the (write-only) header values.
    const input: ChannelInput = { ...current, ...b, type: (b.type ?? ch.type) as Channel['type'], config: b.config ? { ...ch.config, ...b.config } : ch.config };
    // The stored key is checked only when it is replaced or must fit a new type (it may be unreadable).
    checkChannel(input, b.apiKey !== undefined || input.type !== ch.type);
    await gw.channels.update(id, input);
    // The operator enabling a channel again overrides an auto-disable.
    if (b.enabled === true && ch.status === 'auto_disabled') await gw.health.enable(ch, 'enabled by an administrator');
    await gw.bus.publish('catalog');
    return c.json(publicChannel(gw.channels.get(id)!, gw.health), 200);
  })
  .openapi(r.deleteChannel, async (c) => {
    const gw = c.get('gw');
    if (!(await gw.channels.remove(c.req.valid('param').id))) throw new ApiError(404, 'not_found', 'No such channel.');
    await gw.bus.publish('catalog');
    return c.json({ ok: true as const }, 200);
  })
  .openapi(r.listPrices, (c) => {
    const items = [...c.get('gw').pricing.prices.entries()].map(([model, p]) => priceView(model, p));
    return c.json({ items }, 200);
  })
  .openapi(r.putPrice, async (c) => {
    const gw = c.get('gw');
    const { model } = c.req.valid('param');
    const b = c.req.valid('json');
    if (b.perRequest == null && (b.input === undefined || b.output === undefined)) {
      throw new ApiError(400, 'invalid_request', 'Give input and output (USD per 1M tokens), or perRequest (USD per call).');
    }
    const price: Price = {
      input: b.input ?? 0n,
      output: b.output ?? 0n,
      cachedInput: b.cachedInput ?? null,
      cacheWrite: b.cacheWrite ?? null,
      perRequest: b.perRequest ?? null,
      audioInput: b.audioInput ?? null,
      audioOutput: b.audioOutput ?? null,
      imageInput: b.imageInput ?? null,
      imageOutput: b.imageOutput ?? null,
      maxOutputTokens: b.maxOutputTokens ?? null,
    };
    await gw.pricing.setPrice(model, price);
    await gw.bus.publish('catalog');
    return c.json(priceView(model, gw.pricing.prices.get(model)!), 200);
  })
  .openapi(r.deletePrice, async (c) => {
    const gw = c.get('gw');
    if (!(await gw.pricing.deletePrice(c.req.valid('param').model))) throw new ApiError(404, 'not_found', 'No price for that model.');
    await gw.bus.publish('catalog');
    return c.json({ ok: true as const }, 200);
  })
  .openapi(r.listGroups, (c) => c.json({ items: [...c.get('gw').pricing.groups.values()].map(groupView) }, 200))
  .openapi(r.putGroup, async (c) => {
    const gw = c.get('gw');
    const { name } = c.req.valid('param');
    const b = c.req.valid('json');
    const current = gw.pricing.groups.get(name);
    await gw.pricing.setGroup({
      name,
      multiplier: b.multiplier,
      description: b.description ?? current?.description ?? '',
      selectable: b.selectable ?? current?.selectable ?? false,
    });
    await gw.bus.publish('catalog');
    return c.json(groupView(gw.pricing.groups.get(name)!), 200);
  });
