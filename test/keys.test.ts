// API key management over real HTTP: create (full key once), list (masked), patch, delete, isolation, validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { addChannel, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

let gw: TestGateway;
let up: FakeOpenAI;
let seq = 0;
const uniq = (p = 'ky') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'keys-pass-1234';
const KEY_RE = /^sk-[A-Za-z0-9]{48,}$/;
const MODEL_A = 'keytest-model-a';
const MODEL_B = 'keytest-model-b';

beforeAll(async () => {
  gw = await startGateway();
  up = await startFakeOpenAI();
  await addChannel(gw, { baseUrl: up.url, models: [MODEL_A, MODEL_B], name: 'keys-test' });
  // input $2 / output $8 per 1M tokens: 1 point per prompt token, 4 per completion token
  await setPrice(gw, MODEL_A, { input: '2', output: '8' });
  await setPrice(gw, MODEL_B, { input: '2', output: '8' });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

async function newUser(): Promise<ApiClient> {
  const username = uniq();
  const c = new ApiClient(gw.url);
  expect((await c.post('/api/auth/register', { username, password: PASSWORD })).status).toBe(201);
  await c.login(username, PASSWORD);
  return c;
}

function expectMoney(m: any, quota: number) {
  expect(m).toEqual({ quota, usd: expect.stringMatching(/^\d+\.\d{6}$/) });
  expect(Number(m.usd)).toBeCloseTo(quota / 500000, 6);
}

function expectApiError(res: { status: number; body: any }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: { message: expect.any(String), code: expect.any(String) } });
}

function allKeys(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), allKeys(x, out));
  return out;
}

/** GET /v1/models with a Bearer key: the observable effect of key settings. */
async function models(key: string) {
  const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  const body: any = await res.json().catch(() => undefined);
  return { status: res.status, body, ids: Array.isArray(body?.data) ? body.data.map((m: any) => m.id) : [] };
}

async function createKey(c: ApiClient, body: Record<string, unknown> = {}) {
  const res = await c.post('/api/keys', { name: uniq('k'), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function listed(c: ApiClient, id: number) {
  const res = await c.get('/api/keys');
  expect(res.status).toBe(200);
  return (res.body.items as any[]).find((k) => k.id === id);
}

describe('create and list', () => {
  it('create answers 201 with the full key once; the list shows only the masked form and no hash', async () => {
    const c = await newUser();
    const created = await createKey(c, { name: 'project-x' });
    expect(created.key).toMatch(KEY_RE);
    expect(created).toMatchObject({ id: expect.any(Number), name: 'project-x', group: 'default', enabled: true });
    expect(created.maskedKey).toEqual(expect.any(String));
    expect(created.maskedKey).not.toBe(created.key);
    expect(created.maskedKey.startsWith('sk-')).toBe(true);
    expect(created.quotaLimit).toBeNull();
    expect(created.expiresAt ?? null).toBeNull();
    expect(created.models).toEqual([]);
    expect(created.allowIps).toEqual([]);
    expectMoney(created.used, 0);

    const list = await c.get('/api/keys');
    expect(list.status).toBe(200);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(created.key);
    // not even the random part minus a few characters
    expect(text).not.toContain(created.key.slice(3, 3 + 24));
    for (const k of allKeys(list.body)) expect(k).not.toMatch(/hash|secret/i);
    const item = list.body.items.find((k: any) => k.id === created.id);
    expect(item).toBeDefined();
    expect(item.key).toBeUndefined();
    expect(item.maskedKey).toBe(created.maskedKey);
    expectMoney(item.used, 0);
    // the key works
    expect((await models(created.key)).status).toBe(200);
  });

  it('two keys are different and both usable', async () => {
    const c = await newUser();
    const a = await createKey(c);
    const b = await createKey(c);
    expect(a.key).not.toBe(b.key);
    expect((await models(a.key)).status).toBe(200);
    expect((await models(b.key)).status).toBe(200);
  });

  it('accepts quotaLimit, models, allowIps and expiresAt at creation', async () => {
    const c = await newUser();
    const expires = Date.now() + 86_400_000;
    const k = await createKey(c, {
      quotaLimit: 5000,
      models: [MODEL_A],
      allowIps: ['127.0.0.1', '::1', '10.0.0.0/8'],
      expiresAt: new Date(expires).toISOString(),
    });
    expectMoney(k.quotaLimit, 5000);
    expect(k.models).toEqual([MODEL_A]);
    expect(k.allowIps).toEqual(['127.0.0.1', '::1', '10.0.0.0/8']);
    expect(Math.abs(new Date(k.expiresAt).getTime() - expires)).toBeLessThan(1000);
    const m = await models(k.key);
    expect(m.status).toBe(200);
    expect(m.ids).toEqual([MODEL_A]);
  });

  it('a key expired at creation time is refused by the relay with 401', async () => {
    const c = await newUser();
    const k = await createKey(c, { expiresAt: Date.now() - 1000 });
    expect((await models(k.key)).status).toBe(401);
  });

  it('needs a session', async () => {
    const anon = new ApiClient(gw.url);
    expect((await anon.get('/api/keys')).status).toBe(401);
    expect((await anon.post('/api/keys', { name: 'x' })).status).toBe(401);
  });
});

describe('validation', () => {
  let c: ApiClient;
  beforeAll(async () => {
    c = await newUser();
  });

  it.each([
    ['allowIps entry not an IP', { allowIps: ['not-an-ip'] }],
    ['allowIps bad CIDR prefix', { allowIps: ['10.0.0.0/33'] }],
    ['allowIps not an array', { allowIps: '127.0.0.1' }],
    ['negative quotaLimit', { quotaLimit: -1 }],
    ['fractional quotaLimit', { quotaLimit: 1.5 }],
    ['unknown group', { group: 'no-such-group-xyz' }],
    ['models not an array', { models: 'gpt-4o' }],
    ['bad expiresAt', { expiresAt: 'tomorrow-ish' }],
  ])('create rejects %s with 400', async (_l, extra) => {
    const before = (await c.get('/api/keys')).body.items.length;
    expectApiError(await c.post('/api/keys', { name: uniq('bad'), ...extra }), 400);
    expect((await c.get('/api/keys')).body.items.length).toBe(before);
  });

  it('a group exists but is not selectable → 400; once selectable the key can use it', async () => {
    const group = uniq('grp');
    expect((await gw.admin.put(`/api/admin/groups/${group}`, { multiplier: '1.5', selectable: false })).status).toBe(200);
    expectApiError(await c.post('/api/keys', { name: 'g', group }), 400);
    expect((await gw.admin.put(`/api/admin/groups/${group}`, { multiplier: '1.5', selectable: true })).status).toBe(200);
    const k = await createKey(c, { group });
    expect(k.group).toBe(group);
    expect((await listed(c, k.id)).group).toBe(group);
  });

  it('an expiry past what a date can hold (9e15 ms) is a 400 naming expiresAt, on create and patch', async () => {
    const created = await c.post('/api/keys', { name: 'far', expiresAt: 9e15 });
    expectApiError(created, 400);
    expect(JSON.stringify(created.body)).toContain('expiresAt');
    const k = await createKey(c, {});
    expectApiError(await c.patch(`/api/keys/${k.id}`, { expiresAt: 9e15 }), 400);
    expect((await listed(c, k.id)).expiresAt).toBeNull();
  });

  it('create rejects a non-JSON body with 400', async () => {
    expectApiError(await c.request('POST', '/api/keys', '{oops', { 'content-type': 'application/json' }), 400);
  });

  it.each([
    ['allowIps entry not an IP', { allowIps: ['not-an-ip'] }],
    ['negative quotaLimit', { quotaLimit: -10 }],
    ['unknown group', { group: 'no-such-group-xyz' }],
    ['enabled not a boolean', { enabled: 'yes' }],
  ])('patch rejects %s with 400 and leaves the key unchanged', async (_l, patch) => {
    const k = await createKey(c, { quotaLimit: 100 });
    expectApiError(await c.patch(`/api/keys/${k.id}`, patch), 400);
    const now = await listed(c, k.id);
    expectMoney(now.quotaLimit, 100);
    expect(now.allowIps).toEqual([]);
    expect(now.group).toBe('default');
    expect(now.enabled).toBe(true);
  });
});

describe('patch', () => {
  it('renames a key', async () => {
    const c = await newUser();
    const k = await createKey(c, { name: 'old-name' });
    const res = await c.patch(`/api/keys/${k.id}`, { name: 'new-name' });
    expect(res.status).toBe(200);
    expect((await listed(c, k.id)).name).toBe('new-name');
  });

  it('disabling a key makes the relay answer 401; enabling restores it', async () => {
    const c = await newUser();
    const k = await createKey(c);
    expect((await c.patch(`/api/keys/${k.id}`, { enabled: false })).status).toBe(200);
    expect((await listed(c, k.id)).enabled).toBe(false);
    const off = await models(k.key);
    expect(off.status).toBe(401);
    expect(off.body?.error?.message).toMatch(/disabled/i);
    expect((await c.patch(`/api/keys/${k.id}`, { enabled: true })).status).toBe(200);
    expect((await listed(c, k.id)).enabled).toBe(true);
    expect((await models(k.key)).status).toBe(200);
  });

  it('models allow-list restricts and empty list removes the restriction', async () => {
    const c = await newUser();
    const k = await createKey(c);
    expect((await models(k.key)).ids.sort()).toEqual([MODEL_A, MODEL_B]);
    expect((await c.patch(`/api/keys/${k.id}`, { models: [MODEL_B] })).status).toBe(200);
    expect((await listed(c, k.id)).models).toEqual([MODEL_B]);
    expect((await models(k.key)).ids).toEqual([MODEL_B]);
    expect((await c.patch(`/api/keys/${k.id}`, { models: [] })).status).toBe(200);
    expect((await models(k.key)).ids.sort()).toEqual([MODEL_A, MODEL_B]);
  });

  it('allowIps restricts the caller IP (403) and accepts loopback when listed', async () => {
    const c = await newUser();
    const k = await createKey(c);
    expect((await c.patch(`/api/keys/${k.id}`, { allowIps: ['10.0.0.0/8'] })).status).toBe(200);
    expect((await listed(c, k.id)).allowIps).toEqual(['10.0.0.0/8']);
    const blocked = await models(k.key);
    expect(blocked.status).toBe(403);
    expect(blocked.body?.error?.code).toBe('ip_not_allowed');
    expect((await c.patch(`/api/keys/${k.id}`, { allowIps: ['127.0.0.0/8', '::1'] })).status).toBe(200);
    expect((await models(k.key)).status).toBe(200);
    expect((await c.patch(`/api/keys/${k.id}`, { allowIps: [] })).status).toBe(200);
    expect((await models(k.key)).status).toBe(200);
  });

  it('quotaLimit can be set, changed and cleared (null = unlimited)', async () => {
    const c = await newUser();
    const k = await createKey(c);
    expect((await c.patch(`/api/keys/${k.id}`, { quotaLimit: 5000 })).status).toBe(200);
    expectMoney((await listed(c, k.id)).quotaLimit, 5000);
    expect((await listed(c, k.id)).quotaLimit.usd).toBe('0.010000');
    expect((await c.patch(`/api/keys/${k.id}`, { quotaLimit: 0 })).status).toBe(200);
    expectMoney((await listed(c, k.id)).quotaLimit, 0);
    expect((await c.patch(`/api/keys/${k.id}`, { quotaLimit: null })).status).toBe(200);
    expect((await listed(c, k.id)).quotaLimit).toBeNull();
  });

  it('a patch touches only the fields it names', async () => {
    const c = await newUser();
    const k = await createKey(c, { name: 'keep', quotaLimit: 777, models: [MODEL_A], allowIps: ['127.0.0.1'] });
    expect((await c.patch(`/api/keys/${k.id}`, { enabled: false })).status).toBe(200);
    const now = await listed(c, k.id);
    expect(now).toMatchObject({ name: 'keep', models: [MODEL_A], allowIps: ['127.0.0.1'], enabled: false });
    expectMoney(now.quotaLimit, 777);
  });
});

describe('usage per key', () => {
  it('a served request shows up as the key\'s used money and request count, only on that key', async () => {
    const c = await newUser();
    const a = await createKey(c);
    const b = await createKey(c);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_A, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const body: any = await res.json();
    const cost = body.usage.prompt_tokens * 1 + body.usage.completion_tokens * 4; // 10 + 8×4 = 42
    expect(cost).toBeGreaterThan(0);
    const ka = await listed(c, a.id);
    expectMoney(ka.used, cost);
    expect(ka.used.usd).toBe((cost / 500000).toFixed(6));
    if (ka.requestCount !== undefined) expect(ka.requestCount).toBe(1);
    expectMoney((await listed(c, b.id)).used, 0);
    const w = await c.get('/api/wallet');
    expect(w.body.used).toEqual(ka.used);
  });
});

describe('delete and ownership', () => {
  it('delete removes the key: gone from the list, relay 401, second delete 404', async () => {
    const c = await newUser();
    const k = await createKey(c);
    const del = await c.delete(`/api/keys/${k.id}`);
    expect([200, 204]).toContain(del.status);
    expect(await listed(c, k.id)).toBeUndefined();
    expect((await models(k.key)).status).toBe(401);
    expectApiError(await c.delete(`/api/keys/${k.id}`), 404);
    expectApiError(await c.patch(`/api/keys/${k.id}`, { name: 'zombie' }), 404);
  });

  it('another user cannot see, patch or delete my key (404)', async () => {
    const me = await newUser();
    const other = await newUser();
    const k = await createKey(me, { name: 'mine' });
    const theirs = await other.get('/api/keys');
    expect(theirs.status).toBe(200);
    expect(theirs.body.items.some((x: any) => x.id === k.id)).toBe(false);
    expect(JSON.stringify(theirs.body)).not.toContain(k.maskedKey);
    expectApiError(await other.patch(`/api/keys/${k.id}`, { name: 'stolen', enabled: false }), 404);
    expectApiError(await other.delete(`/api/keys/${k.id}`), 404);
    const still = await listed(me, k.id);
    expect(still).toMatchObject({ name: 'mine', enabled: true });
    expect((await models(k.key)).status).toBe(200);
  });

  it('unknown or malformed ids answer 404 or 400, never 500', async () => {
    const c = await newUser();
    expect((await c.patch('/api/keys/99999999', { name: 'x' })).status).toBe(404);
    expect((await c.delete('/api/keys/99999999')).status).toBe(404);
    expect([400, 404]).toContain((await c.delete('/api/keys/abc')).status);
  });
});
