// Admin API over real HTTP: role checks, channels, prices, groups, pricing page, settings, users, OpenAPI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let user: ApiClient;
let seq = 0;
const uniq = (p = 'ad') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'admin-test-pass-1';
const SECRET = 'sk-upstream-SECRET-do-not-leak-0123456789abcdef';

beforeAll(async () => {
  gw = await startGateway();
  const username = uniq('plain');
  user = new ApiClient(gw.url);
  expect((await user.post('/api/auth/register', { username, password: PASSWORD })).status).toBe(201);
  await user.login(username, PASSWORD);
});
afterAll(async () => {
  await gw?.close();
});

function expectApiError(res: { status: number; body: any }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: { message: expect.any(String), code: expect.any(String) } });
}

function channelBody(extra: Record<string, unknown> = {}) {
  return { name: uniq('ch'), type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: SECRET, models: ['adm-model'], ...extra };
}

const ADMIN_ROUTES: Array<[string, string, unknown?]> = [
  ['GET', '/api/admin/channels'],
  ['POST', '/api/admin/channels', {}],
  ['GET', '/api/admin/channels/1'],
  ['PATCH', '/api/admin/channels/1', { priority: 1 }],
  ['DELETE', '/api/admin/channels/1'],
  ['GET', '/api/admin/prices'],
  ['PUT', '/api/admin/prices/some-model', { input: '1', output: '1' }],
  ['DELETE', '/api/admin/prices/some-model'],
  ['GET', '/api/admin/groups'],
  ['PUT', '/api/admin/groups/vip', { multiplier: '9' }],
  ['GET', '/api/admin/settings'],
  ['PATCH', '/api/admin/settings', { registrationEnabled: false }],
  ['GET', '/api/admin/users'],
  ['POST', '/api/admin/users/1/adjust', { quota: 1000000, reason: 'x' }],
  ['PATCH', '/api/admin/users/1', { enabled: false }],
];

describe('role checks', () => {
  it.each(ADMIN_ROUTES)('%s %s → 401 anonymous, 403 plain user', async (method, path, body) => {
    const anon = new ApiClient(gw.url);
    expectApiError(await anon.request(method, path, body), 401);
    expectApiError(await user.request(method, path, body), 403);
  });

  it('the refused calls changed nothing', async () => {
    const s = await gw.admin.get('/api/admin/settings');
    expect(s.body.registrationEnabled).toBe(true);
    const g = await gw.admin.get('/api/admin/groups');
    expect(JSON.stringify(g.body)).not.toMatch(/"multiplier":\s*"?9"?/);
    const w = await user.get('/api/wallet');
    expect(w.body.balance.quota).toBe(250000);
  });
});

describe('channels', () => {
  it('create → list (masked) → get → patch → delete', async () => {
    const body = channelBody({ groups: ['default'], priority: 3, weight: 2, modelMapping: { 'adm-model': 'real-model' } });
    const created = await gw.admin.post('/api/admin/channels', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual(expect.objectContaining({ id: expect.any(Number) }));
    const id = created.body.id;

    const list = await gw.admin.get('/api/admin/channels');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(SECRET);
    expect(JSON.stringify(list.body)).not.toContain(SECRET.slice(10, 30));
    const item = list.body.items.find((c: any) => c.id === id);
    expect(item).toMatchObject({ name: body.name, type: 'openai', models: ['adm-model'], priority: 3, weight: 2 });
    expect(typeof item.apiKey).toBe('string');
    expect(item.apiKey).not.toBe(SECRET);
    expect(item.enabled).toBe(true);

    const one = await gw.admin.get(`/api/admin/channels/${id}`);
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.body)).not.toContain(SECRET);
    expect(JSON.stringify(one.body)).toContain(body.name);

    const patched = await gw.admin.patch(`/api/admin/channels/${id}`, { priority: 7, enabled: false });
    expect(patched.status).toBe(200);
    const after = (await gw.admin.get('/api/admin/channels')).body.items.find((c: any) => c.id === id);
    expect(after).toMatchObject({ priority: 7, enabled: false, name: body.name, weight: 2 });
    expect(JSON.stringify(patched.body ?? '')).not.toContain(SECRET);

    const del = await gw.admin.delete(`/api/admin/channels/${id}`);
    expect([200, 204]).toContain(del.status);
    expect((await gw.admin.get('/api/admin/channels')).body.items.some((c: any) => c.id === id)).toBe(false);
    expectApiError(await gw.admin.get(`/api/admin/channels/${id}`), 404);
    expectApiError(await gw.admin.delete(`/api/admin/channels/${id}`), 404);
  });

  it('patching the apiKey replaces the secret without exposing it', async () => {
    const id = (await gw.admin.post('/api/admin/channels', channelBody())).body.id;
    const newSecret = 'sk-rotated-SECRET-abcdefghijklmnopqrstuvwxyz';
    expect((await gw.admin.patch(`/api/admin/channels/${id}`, { apiKey: newSecret })).status).toBe(200);
    const text = JSON.stringify((await gw.admin.get('/api/admin/channels')).body);
    expect(text).not.toContain(newSecret);
    expect(text).not.toContain(SECRET);
  });

  it.each([
    ['missing baseUrl', () => { const b: any = channelBody(); delete b.baseUrl; return b; }],
    ['type not openai', () => channelBody({ type: 'bogus' })],
    ['bad URL', () => channelBody({ baseUrl: 'not a url' })],
    ['non-http URL', () => channelBody({ baseUrl: 'ftp://example.com/v1' })],
    ['models not a list', () => channelBody({ models: 'adm-model' })],
    ['missing apiKey', () => { const b: any = channelBody(); delete b.apiKey; return b; }],
    ['negative weight', () => channelBody({ weight: -1 })],
  ])('rejects an invalid channel (%s) with 400', async (_l, make) => {
    const before = (await gw.admin.get('/api/admin/channels')).body.items.length;
    expectApiError(await gw.admin.post('/api/admin/channels', make()), 400);
    expect((await gw.admin.get('/api/admin/channels')).body.items.length).toBe(before);
  });

  it('rejects an invalid patch with 400', async () => {
    const id = (await gw.admin.post('/api/admin/channels', channelBody())).body.id;
    expectApiError(await gw.admin.patch(`/api/admin/channels/${id}`, { baseUrl: 'not a url' }), 400);
    expectApiError(await gw.admin.patch(`/api/admin/channels/${id}`, { priority: 'high' }), 400);
  });
});

describe('prices, groups and the pricing page', () => {
  it('PUT accepts USD decimal strings and GET lists them', async () => {
    const model = uniq('pm');
    const res = await gw.admin.put(`/api/admin/prices/${model}`, { input: '2.5', output: '10', cachedInput: '1.25' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const list = await gw.admin.get('/api/admin/prices');
    expect(list.status).toBe(200);
    const text = JSON.stringify(list.body);
    expect(text).toContain(model);
    expect(text).toMatch(/"2\.5(0*)"/);
    // a per-request price
    const pr = uniq('img');
    expect((await gw.admin.put(`/api/admin/prices/${pr}`, { perRequest: '0.04' })).status).toBe(200);
    expect(JSON.stringify((await gw.admin.get('/api/admin/prices')).body)).toContain(pr);
    // delete
    expect([200, 204]).toContain((await gw.admin.delete(`/api/admin/prices/${pr}`)).status);
    expect(JSON.stringify((await gw.admin.get('/api/admin/prices')).body)).not.toContain(pr);
  });

  it.each([
    ['non-numeric', { input: 'abc', output: '1' }],
    ['negative', { input: '-1', output: '1' }],
    ['more than 6 decimals', { input: '0.1234567', output: '1' }],
    ['negative output', { input: '1', output: '-0.5' }],
    ['no price at all', {}],
  ])('rejects a bad price (%s) with 400 and stores nothing', async (_l, body) => {
    const model = uniq('bad');
    expectApiError(await gw.admin.put(`/api/admin/prices/${model}`, body), 400);
    expect(JSON.stringify((await gw.admin.get('/api/admin/prices')).body)).not.toContain(model);
  });

  it('GET /api/pricing lists a priced model with its price in every group; vip ×2 doubles it', async () => {
    const model = uniq('pub');
    expect((await gw.admin.put(`/api/admin/prices/${model}`, { input: '1.5', output: '6' })).status).toBe(200);
    const g = await gw.admin.put('/api/admin/groups/vip', { multiplier: '2', selectable: true });
    // A group users may not select is hidden from them on the pricing page (admins still see it).
    expect((await gw.admin.put('/api/admin/groups/internal', { multiplier: '0.5', selectable: false })).status).toBe(200);
    expect(g.status, JSON.stringify(g.body)).toBe(200);
    expect(JSON.stringify((await gw.admin.get('/api/admin/groups')).body)).toContain('vip');

    expect((await new ApiClient(gw.url).get('/api/pricing')).status).toBe(401);
    const res = await user.get('/api/pricing');
    expect(res.status).toBe(200);
    const entry = findModel(res.body, model);
    expect(entry, `model ${model} in ${JSON.stringify(res.body).slice(0, 400)}`).toBeDefined();
    const def = groupPrice(entry, 'default');
    const vip = groupPrice(entry, 'vip');
    expect(def, JSON.stringify(entry)).toBeDefined();
    expect(vip, JSON.stringify(entry)).toBeDefined();
    expect(usd(def.input)).toBeCloseTo(1.5, 6);
    expect(usd(def.output)).toBeCloseTo(6, 6);
    expect(usd(vip.input)).toBeCloseTo(3, 6);
    expect(usd(vip.output)).toBeCloseTo(12, 6);

    // a per-request model is shown as such, also multiplied per group
    const img = uniq('img');
    expect((await gw.admin.put(`/api/admin/prices/${img}`, { perRequest: '0.04' })).status).toBe(200);
    const pr = findModel((await user.get('/api/pricing')).body, img);
    expect(pr, img).toBeDefined();
    expect(JSON.stringify(pr)).toMatch(/per.?request/i);
    expect(usd(groupPrice(pr, 'default').perRequest)).toBeCloseTo(0.04, 6);
    expect(usd(groupPrice(pr, 'vip').perRequest)).toBeCloseTo(0.08, 6);
  });

  it('rejects a bad group multiplier with 400', async () => {
    for (const multiplier of ['abc', '-1', '1.1234567']) {
      expectApiError(await gw.admin.put(`/api/admin/groups/${uniq('g')}`, { multiplier }), 400);
    }
  });
});

/** The pricing answer's shape is free; accept a list under items/models/data or the array itself, or a map. */
function findModel(body: any, model: string): any {
  const list = Array.isArray(body) ? body : (body?.items ?? body?.models ?? body?.data);
  if (Array.isArray(list)) return list.find((m: any) => m?.model === model || m?.id === model || m?.name === model);
  return body?.[model];
}
function groupPrice(entry: any, group: string): any {
  const g = entry?.groups ?? entry?.prices ?? entry?.byGroup;
  if (Array.isArray(g)) return g.find((x: any) => x?.group === group || x?.name === group);
  return g?.[group];
}
/** A price given as a decimal string, a number, or an object holding one. */
function usd(v: any): number {
  if (v && typeof v === 'object') return usd(v.usd ?? v.perMillion ?? v.price);
  return Number(v);
}

describe('settings', () => {
  it('GET/PATCH round-trip and validation', async () => {
    const before = await gw.admin.get('/api/admin/settings');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      trialQuota: 250000,
      registrationEnabled: true,
      defaultGroup: 'default',
      defaultMaxOutputTokens: expect.any(Number),
    });
    const orig = before.body.defaultMaxOutputTokens;
    const patched = await gw.admin.patch('/api/admin/settings', { defaultMaxOutputTokens: 2048 });
    expect(patched.status).toBe(200);
    const after = await gw.admin.get('/api/admin/settings');
    expect(after.body).toMatchObject({ defaultMaxOutputTokens: 2048, trialQuota: 250000, registrationEnabled: true });
    expectApiError(await gw.admin.patch('/api/admin/settings', { trialQuota: -1 }), 400);
    expectApiError(await gw.admin.patch('/api/admin/settings', { registrationEnabled: 'maybe' }), 400);
    expectApiError(await gw.admin.patch('/api/admin/settings', { defaultGroup: 'no-such-group-q' }), 400);
    expect((await gw.admin.get('/api/admin/settings')).body.trialQuota).toBe(250000);
    expect((await gw.admin.patch('/api/admin/settings', { defaultMaxOutputTokens: orig })).status).toBe(200);
  });

  it('siteName: "MoleAPI" by default, trimmed, 1–64 characters, shown publicly by GET /api/status', async () => {
    expect((await gw.admin.get('/api/admin/settings')).body.siteName).toBe('MoleAPI');
    expect((await (await fetch(`${gw.url}/api/status`)).json()).siteName).toBe('MoleAPI');
    expect((await gw.admin.patch('/api/admin/settings', { siteName: '  Acme AI  ' })).body.siteName).toBe('Acme AI');
    expect(await (await fetch(`${gw.url}/api/status`)).json()).toEqual({ ok: true, version: expect.any(String), siteName: 'Acme AI' });
    for (const bad of ['', '   ', 'x'.repeat(65), 42]) {
      const res = await gw.admin.patch('/api/admin/settings', { siteName: bad });
      expectApiError(res, 400);
      expect(res.body.error.issues[0].path).toEqual(['siteName']);
    }
    expect((await gw.admin.patch('/api/admin/settings', { siteName: 'MoleAPI' })).status).toBe(200);
  });
});

describe('users', () => {
  it('search finds a user by part of the name, and not others', async () => {
    const marker = `zq${Date.now().toString(36)}`;
    const username = `${marker}_findme`;
    const c = new ApiClient(gw.url);
    const reg = await c.post('/api/auth/register', { username, password: PASSWORD });
    expect(reg.status).toBe(201);
    const res = await gw.admin.get(`/api/admin/users?search=${marker}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ id: reg.body.user.id, username, role: 'user' });
    expect(res.body.total).toBe(1);
    const none = await gw.admin.get(`/api/admin/users?search=${marker}_nobody`);
    expect(none.status).toBe(200);
    expect(none.body.items).toHaveLength(0);
  });

  it('an admin adjustment shows up in the user wallet', async () => {
    const me = await user.get('/api/me');
    const before = (await user.get('/api/wallet')).body.balance.quota;
    const res = await gw.admin.post(`/api/admin/users/${me.body.id}/adjust`, { quota: 500000, reason: 'admin test' });
    expect([200, 201]).toContain(res.status);
    expect((await user.get('/api/wallet')).body.balance).toEqual({ quota: before + 500000, usd: expect.any(String) });
    await gw.admin.post(`/api/admin/users/${me.body.id}/adjust`, { quota: -500000, reason: 'admin test undo' });
  });
});

describe('disabling a user', () => {
  const relay = (key: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'any-model', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('ends their sessions, refuses login (403) and their keys (401); enabling restores all', async () => {
    const { client, userId, key } = await createUserWithKey(gw, { username: uniq('dis') });
    const username = (await client.get('/api/me')).body.username;
    expect((await relay(key)).status).not.toBe(401); // known key (404: no such model here)

    const off = await gw.admin.patch(`/api/admin/users/${userId}`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: userId, enabled: false });
    expect((await client.get('/api/me')).status).toBe(401);
    expectApiError(await new ApiClient(gw.url).post('/api/auth/login', { username, password: 'password-123' }), 403);
    const refused = await relay(key);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.message).toMatch(/disabled/);

    expect((await gw.admin.patch(`/api/admin/users/${userId}`, { enabled: true })).body.enabled).toBe(true);
    expect((await new ApiClient(gw.url).post('/api/auth/login', { username, password: 'password-123' })).status).toBe(200);
    expect((await relay(key)).status).not.toBe(401);
  });

  it('refuses to disable the root account or oneself, and answers 404 / 400 for an unknown user or a bad body', async () => {
    const root = (await gw.admin.get('/api/me')).body;
    expectApiError(await gw.admin.patch(`/api/admin/users/${root.id}`, { enabled: false }), 403);
    expectApiError(await gw.admin.patch('/api/admin/users/999999', { enabled: false }), 404);
    expectApiError(await gw.admin.patch(`/api/admin/users/${root.id}`, { enabled: 'no' }), 400);
    expectApiError(await gw.admin.patch(`/api/admin/users/${root.id}`, { role: 'root' }), 400);
  });
});

describe('openapi', () => {
  it('GET /api/openapi.json is an OpenAPI document covering the contract', async () => {
    const res = await fetch(`${gw.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type') ?? '').toMatch(/json/);
    const doc = JSON.parse(await res.text());
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info?.title).toEqual(expect.any(String));
    for (const p of [
      '/api/auth/register',
      '/api/auth/login',
      '/api/me',
      '/api/keys',
      '/api/wallet',
      '/api/wallet/ledger',
      '/api/pricing',
      '/api/admin/channels',
      '/api/admin/settings',
      '/v1/chat/completions',
    ]) {
      expect(Object.keys(doc.paths ?? {}), p).toContain(p);
    }
    expect(doc.paths['/api/keys'].post).toBeDefined();
    expect(doc.paths['/v1/chat/completions'].post).toBeDefined();
  });
});
