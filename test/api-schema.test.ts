// The schema-first management API: every problem reported, query parameters bounded (no 500 on either
// database), real answers equal to their declared schemas, and the /api/pricing shape pinned.
import type { ZodType } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managementApp } from '../src/http/app.ts';
import { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let user: Awaited<ReturnType<typeof createUserWithKey>>;

beforeAll(async () => {
  gw = await startGateway();
  // A catalog with known content, for the pinned pricing answer.
  expect((await gw.admin.put('/api/admin/groups/vip', { multiplier: '2', description: 'Faster lane', selectable: true })).status).toBe(200);
  await setPrice(gw, 'pin-tokens', { input: '2', output: '8', cachedInput: '1', audioOutput: '20' });
  await setPrice(gw, 'pin-per-call', { perRequest: '0.01' });
  await addChannel(gw, { baseUrl: 'http://127.0.0.1:9/v1', models: ['pin-tokens'], groups: ['default'] });
  user = await createUserWithKey(gw);
});
afterAll(async () => {
  await gw?.close();
});

function expectInvalid(res: { status: number; body: any }, param: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe('invalid_request');
  expect(res.body.error.message).toContain(param);
  expect(res.body.error.issues.map((i: { path: unknown[] }) => i.path[0])).toContain(param);
}

describe('validation reports every problem', () => {
  it('a body with two bad fields lists both, in issues and in the message', async () => {
    const res = await new ApiClient(gw.url).post('/api/auth/register', { username: 'x', password: 'short', email: 'not-an-email' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    const paths = res.body.error.issues.map((i: { path: string[] }) => i.path.join('.')).sort();
    expect(paths).toEqual(['email', 'password', 'username']);
    for (const p of paths) expect(res.body.error.message).toContain(`${p}:`);
    for (const i of res.body.error.issues) expect(i.message.length).toBeGreaterThan(0);
  });

  it('nested paths are given as arrays', async () => {
    const res = await gw.admin.post('/api/admin/channels', { name: 'n', type: 'openai', baseUrl: 'http://h/v1', apiKey: 'k', models: ['ok', ''] });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: ['models', 1], message: expect.any(String) }]);
  });

  it('malformed JSON is 400 invalid_json; an unknown numeric id is 404', async () => {
    const bad = await user.client.request('POST', '/api/keys', '{"name": ', { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
    for (const id of ['abc', '0', '99999999999999999999', '1.5']) {
      const res = await user.client.get(`/api/keys/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });
});

describe('odd bodies, path parameters and headers are 4xx', () => {
  it.each(['[]', 'null', '"text"', '42', 'true'])('body %s → 400 invalid_request', async (raw) => {
    const res = await user.client.request('PATCH', `/api/keys/${user.keyId}`, raw, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });

  it('a bad group name or an over-long model in the path is 400 naming it; a bad Idempotency-Key too', async () => {
    const group = await gw.admin.put('/api/admin/groups/bad%20name!', { multiplier: '1' });
    expect(group.status).toBe(400);
    expect(group.body.error.message).toContain('path parameter name:');
    const model = await gw.admin.put(`/api/admin/prices/${'m'.repeat(129)}`, { input: '1', output: '1' });
    expect(model.status).toBe(400);
    expect(model.body.error.issues[0].path).toEqual(['model']);
    const idem = await gw.admin.post(`/api/admin/users/${user.userId}/adjust`, { quota: 1, reason: 'x' }, { 'idempotency-key': 'has space' });
    expect(idem.status).toBe(400);
    expect(idem.body.error.message).toContain('idempotency-key');
  });
});

describe('query parameters: bad values are 400 naming the parameter, never 500', () => {
  const cases: Array<[string, string]> = [
    ['/api/wallet/ledger?page=1e308', 'page'],
    ['/api/wallet/ledger?page=0', 'page'],
    ['/api/wallet/ledger?page=-1', 'page'],
    ['/api/wallet/ledger?page=abc', 'page'],
    ['/api/wallet/ledger?pageSize=0', 'pageSize'],
    ['/api/wallet/ledger?pageSize=abc', 'pageSize'],
    ['/api/wallet/ledger?pageSize=100000', 'pageSize'],
    ['/api/wallet/ledger?page=1&page=2', 'page'],
    ['/api/logs?from=99999999999999999999999999', 'from'],
    ['/api/logs?to=99999999999999999999999999', 'to'],
    ['/api/logs?from=yesterday', 'from'],
    ['/api/logs?to=2026-13-45', 'to'],
    ['/api/logs?keyId=99999999999999999999', 'keyId'],
    ['/api/logs?keyId=-3', 'keyId'],
    ['/api/logs?keyId=1.5', 'keyId'],
    ['/api/logs?page=1e308', 'page'],
    ['/api/logs?model=' + 'm'.repeat(200), 'model'],
  ];
  it.each(cases)('%s', async (path, param) => {
    expectInvalid(await user.client.get(path), param);
  });

  it('admin user search: page=1e308 is 400', async () => {
    expectInvalid(await gw.admin.get('/api/admin/users?page=1e308'), 'page');
  });

  it('the largest valid values are answered (empty pages), on both databases', async () => {
    const big = await user.client.get('/api/wallet/ledger?page=10000000&pageSize=200');
    expect(big.status).toBe(200);
    expect(big.body).toMatchObject({ items: [], page: 10000000, pageSize: 200, total: 1 });
    const logs = await user.client.get(`/api/logs?keyId=${Number.MAX_SAFE_INTEGER}&from=0&to=8640000000000000&page=10000000`);
    expect(logs.status, JSON.stringify(logs.body)).toBe(200);
    expect(logs.body.items).toEqual([]);
    const iso = await user.client.get('/api/logs?from=2026-01-01&to=2026-01-02T00:00:00Z&model=x&from=');
    // a repeated parameter is ambiguous: refused
    expect(iso.status).toBe(400);
    const ok = await user.client.get('/api/logs?from=2026-01-01&to=2026-01-02T00:00:00Z&model=x');
    expect(ok.status).toBe(200);
    expect((await user.client.get('/api/logs?from=&to=')).status).toBe(200); // empty = no filter
  });
});

describe('answers equal their declared response schemas', () => {
  // The schemas the routes were declared with (the same objects /api/openapi.json is generated from).
  let app: ReturnType<typeof managementApp> | undefined;
  function responseSchema(method: string, path: string, status = 200): ZodType {
    app ??= managementApp(gw.gateway);
    for (const def of app.openAPIRegistry.definitions) {
      if (def.type === 'route' && def.route.method === method && def.route.path === path) {
        const res = def.route.responses[status] as { content: { 'application/json': { schema: ZodType } } };
        return res.content['application/json'].schema;
      }
    }
    throw new Error(`no route ${method} ${path}`);
  }
  // parse() drops undeclared fields and refuses missing or mistyped ones: equality means an exact match.
  const expectMatches = (schema: ZodType, body: unknown) => expect(schema.parse(body)).toEqual(body);

  it('session routes', async () => {
    const c = user.client;
    for (const [path, doc] of [
      ['/api/me', '/api/me'],
      ['/api/keys', '/api/keys'],
      [`/api/keys/${user.keyId}`, '/api/keys/{id}'],
      ['/api/wallet', '/api/wallet'],
      ['/api/wallet/ledger', '/api/wallet/ledger'],
      ['/api/logs', '/api/logs'],
      ['/api/pricing', '/api/pricing'],
    ] as const) {
      const res = await c.get(path);
      expect(res.status, path).toBe(200);
      expectMatches(responseSchema('get', doc), res.body);
    }
    const created = await c.post('/api/keys', { name: 'schema', expiresAt: Date.now() + 3600_000, quotaLimit: 5 });
    expect(created.status).toBe(201);
    expectMatches(responseSchema('post', '/api/keys', 201), created.body);
  });

  it('admin routes', async () => {
    for (const path of ['/api/admin/channels', '/api/admin/prices', '/api/admin/groups', '/api/admin/settings', '/api/admin/users']) {
      const res = await gw.admin.get(path);
      expect(res.status, path).toBe(200);
      expectMatches(responseSchema('get', path), res.body);
    }
    const adj = await gw.admin.post(`/api/admin/users/${user.userId}/adjust`, { quota: 7, reason: 'schema' }, { 'idempotency-key': 'schema-1' });
    expect(adj.status).toBe(201);
    expectMatches(responseSchema('post', '/api/admin/users/{id}/adjust', 201), adj.body);
    const again = await gw.admin.post(`/api/admin/users/${user.userId}/adjust`, { quota: 7, reason: 'schema' }, { 'idempotency-key': 'schema-1' });
    expect(again.status).toBe(200);
    expectMatches(responseSchema('post', '/api/admin/users/{id}/adjust', 200), again.body);
  });

  it('errors', async () => {
    const res = await user.client.get('/api/logs?page=0');
    expectMatches(responseSchema('get', '/api/logs', 400), res.body);
  });
});

describe('GET /api/pricing (the console depends on this shape)', () => {
  it('is exactly this for a known catalog', async () => {
    const res = await user.client.get('/api/pricing');
    expect(res.status).toBe(200);
    const usd = (quota: number, text: string) => ({ quota, usd: text });
    const kinds = (audioInput: string, audioOutput: string, imageInput: string, imageOutput: string) => ({ audioInput, audioOutput, imageInput, imageOutput });
    expect(res.body).toEqual({
      items: [
        {
          model: 'pin-per-call',
          input: '0',
          output: '0',
          cachedInput: null,
          cacheWrite: null,
          perRequest: '0.01',
          audioInput: null,
          audioOutput: null,
          imageInput: null,
          imageOutput: null,
          billing: 'per_request',
          maxOutputTokens: null,
          availableIn: [],
          prices: [
            { group: 'default', multiplier: '1', input: '0', output: '0', cachedInput: '0', cacheWrite: '0', ...kinds('0', '0', '0', '0'), perRequest: '0.01', points: { perRequest: usd(5000, '0.010000') } },
            { group: 'vip', multiplier: '2', input: '0', output: '0', cachedInput: '0', cacheWrite: '0', ...kinds('0', '0', '0', '0'), perRequest: '0.02', points: { perRequest: usd(10000, '0.020000') } },
          ],
        },
        {
          model: 'pin-tokens',
          input: '2',
          output: '8',
          cachedInput: '1',
          cacheWrite: null,
          perRequest: null,
          audioInput: null,
          audioOutput: '20',
          imageInput: null,
          imageOutput: null,
          billing: 'usage',
          maxOutputTokens: null,
          availableIn: ['default'],
          prices: [
            {
              group: 'default',
              multiplier: '1',
              input: '2',
              output: '8',
              cachedInput: '1',
              cacheWrite: '2',
              ...kinds('2', '20', '2', '8'),
              perRequest: null,
              points: { perMillionInput: usd(1_000_000, '2.000000'), perMillionOutput: usd(4_000_000, '8.000000') },
            },
            {
              group: 'vip',
              multiplier: '2',
              input: '4',
              output: '16',
              cachedInput: '2',
              cacheWrite: '4',
              ...kinds('4', '40', '4', '16'),
              perRequest: null,
              points: { perMillionInput: usd(2_000_000, '4.000000'), perMillionOutput: usd(8_000_000, '16.000000') },
            },
          ],
        },
      ],
      groups: [
        { name: 'default', description: 'Default group' },
        { name: 'vip', description: 'Faster lane' },
      ],
    });
  });
});

describe('/api/openapi.json', () => {
  it('is generated from the schemas: real request, parameter and response schemas, relay routes included', async () => {
    const doc = (await new ApiClient(gw.url).get('/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const ledger = doc.paths['/api/wallet/ledger'].get;
    expect(ledger.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['query:page', 'query:pageSize', 'query:kind', 'query:from', 'query:to', 'query:format']);
    expect(ledger.parameters[1].schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(ledger.responses['200'].content['application/json'].schema.properties.items.items).toEqual({ $ref: '#/components/schemas/WalletHistoryItem' });
    expect(doc.paths['/api/pricing'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Pricing' });
    expect(doc.components.schemas.Price.required).toContain('maxOutputTokens');
    expect(doc.components.schemas.Money).toMatchObject({ type: 'object', required: ['quota', 'usd'] });
    expect(doc.components.schemas.Error.properties.error.properties).toHaveProperty('issues');
    const register = doc.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema.required).toEqual(['username', 'password']);
    expect(register.responses).toHaveProperty('429');
    expect(doc.paths['/api/admin/prices/{model}'].put.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PriceInput' });
    expect(doc.components.schemas.PriceInput.properties).toHaveProperty('maxOutputTokens');
    // the relay, described by hand
    expect(doc.paths['/v1/chat/completions'].post.responses['429'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/OpenAIError' });
    expect(doc.paths['/v1/models'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ModelList' });
    expect(Object.keys(doc.paths['/v1/embeddings'].post.responses)).toEqual(expect.arrayContaining(['200', '400', '429', '502']));
    expect(doc.paths['/v1/responses'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ResponsesRequest' });
    expect(doc.paths['/v1/audio/transcriptions'].post.requestBody.content).toHaveProperty('multipart/form-data');
    expect(doc.components.securitySchemes).toHaveProperty('session');
  });
});
