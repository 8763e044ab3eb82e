// Wallet and ledger over real HTTP: trial credit, admin adjustments, idempotency, pagination, isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';

let gw: TestGateway;
let up: FakeOpenAI;
let seq = 0;
const uniq = (p = 'wl') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'wallet-pass-123';

const MODEL = 'wallet-model';

beforeAll(async () => {
  gw = await startGateway();
  up = await startFakeOpenAI();
  await addChannel(gw, { baseUrl: up.url, models: [MODEL], name: 'wallet-test' });
  await setPrice(gw, MODEL, { input: '2', output: '8' }); // 1 point per prompt token, 4 per completion token
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** quota / 500000 with exactly 6 decimals, computed with integers. */
function usdOf(quota: number): string {
  const q = BigInt(quota);
  const abs = q < 0n ? -q : q;
  const micro = abs * 2n;
  return `${q < 0n ? '-' : ''}${micro / 1_000_000n}.${(micro % 1_000_000n).toString().padStart(6, '0')}`;
}

function expectMoney(m: any, quota?: number) {
  expect(m).toEqual({ quota: expect.any(Number), usd: expect.any(String) });
  expect(Number.isInteger(m.quota)).toBe(true);
  expect(m.usd).toMatch(/^-?\d+\.\d{6}$/);
  expect(m.usd).toBe(usdOf(m.quota));
  if (quota !== undefined) expect(m.quota).toBe(quota);
}

async function newUser(): Promise<{ client: ApiClient; id: number; username: string }> {
  const username = uniq();
  const client = new ApiClient(gw.url);
  const reg = await client.post('/api/auth/register', { username, password: PASSWORD });
  expect(reg.status).toBe(201);
  await client.login(username, PASSWORD);
  return { client, id: reg.body.user.id, username };
}

async function ledger(c: ApiClient, query = 'pageSize=200') {
  const res = await c.get(`/api/wallet/ledger?${query}`);
  expect(res.status).toBe(200);
  return res.body as { items: any[]; total: number; page: number; pageSize: number };
}

async function balance(c: ApiClient): Promise<number> {
  const w = await c.get('/api/wallet');
  expect(w.status).toBe(200);
  return w.body.balance.quota;
}

function adjust(userId: number, quota: number, reason: string, headers?: Record<string, string>) {
  return gw.admin.post(`/api/admin/users/${userId}/adjust`, { quota, reason }, headers);
}

/** An applied adjustment answers 200 or 201. */
function expectApplied(res: { status: number; body: any }) {
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
}

describe('trial credit', () => {
  it('a new user has $0.50 (250000 points), nothing used, no requests', async () => {
    const { client } = await newUser();
    const w = await client.get('/api/wallet');
    expect(w.status).toBe(200);
    expectMoney(w.body.balance, 250000);
    expect(w.body.balance.usd).toBe('0.500000');
    expectMoney(w.body.used, 0);
    expect(w.body.requestCount).toBe(0);
    if (w.body.held !== undefined) expectMoney(w.body.held, 0);
    if (w.body.available !== undefined) expectMoney(w.body.available, 250000);
  });

  it('the trial is exactly one ledger entry of kind trial with a reference', async () => {
    const { client, id } = await newUser();
    const l = await ledger(client);
    expect(l.total).toBe(1);
    expect(l.items).toHaveLength(1);
    const e = l.items[0];
    expect(e).toMatchObject({ kind: 'trial', id: expect.anything() });
    expectMoney(e.amount, 250000);
    expectMoney(e.balanceAfter, 250000);
    expect(typeof e.reference).toBe('string');
    expect(e.reference.length).toBeGreaterThan(0);
    expect(e.reference).toContain(String(id));
    expect(e.createdAt).toBeTruthy();
    expect(Number.isNaN(new Date(e.createdAt).getTime())).toBe(false);
  });

  it('wallet and ledger need a session', async () => {
    const anon = new ApiClient(gw.url);
    expect((await anon.get('/api/wallet')).status).toBe(401);
    expect((await anon.get('/api/wallet/ledger')).status).toBe(401);
  });

  it('an admin change of trialQuota applies to the next new user', async () => {
    const before = await gw.admin.get('/api/admin/settings');
    expect(before.status).toBe(200);
    const original = before.body.trialQuota;
    expect(original).toBe(250000);
    const set = await gw.admin.patch('/api/admin/settings', { trialQuota: 123456 });
    expect(set.status).toBe(200);
    try {
      expect((await gw.admin.get('/api/admin/settings')).body.trialQuota).toBe(123456);
      const { client } = await newUser();
      const w = await client.get('/api/wallet');
      expectMoney(w.body.balance, 123456);
      expect(w.body.balance.usd).toBe('0.246912');
      const l = await ledger(client);
      expect(l.items).toHaveLength(1);
      expect(l.items[0].kind).toBe('trial');
      expectMoney(l.items[0].amount, 123456);
    } finally {
      expect((await gw.admin.patch('/api/admin/settings', { trialQuota: original })).status).toBe(200);
    }
  });

  it('trialQuota 0 gives no credit (balance 0) and rejects negative', async () => {
    expect((await gw.admin.patch('/api/admin/settings', { trialQuota: -5 })).status).toBe(400);
    expect((await gw.admin.patch('/api/admin/settings', { trialQuota: 0 })).status).toBe(200);
    try {
      const { client } = await newUser();
      expect(await balance(client)).toBe(0);
      const l = await ledger(client);
      expect(l.items.filter((e) => e.kind === 'trial' && e.amount.quota !== 0)).toHaveLength(0);
    } finally {
      expect((await gw.admin.patch('/api/admin/settings', { trialQuota: 250000 })).status).toBe(200);
    }
  });
});

describe('admin adjustments', () => {
  it('a positive adjustment raises the balance and writes an adjustment entry with the reason', async () => {
    const { client, id } = await newUser();
    const reason = `goodwill ${uniq('r')}`;
    const res = await adjust(id, 1000, reason);
    expectApplied(res);
    expect(res.body.entry).toMatchObject({ kind: 'adjustment' });
    expectMoney(res.body.entry.amount, 1000);
    expectMoney(res.body.entry.balanceAfter, 251000);

    const w = await client.get('/api/wallet');
    expectMoney(w.body.balance, 251000);
    expect(w.body.balance.usd).toBe('0.502000');
    const l = await ledger(client);
    expect(l.total).toBe(2);
    const e = l.items.find((x) => x.kind === 'adjustment');
    expect(e).toBeDefined();
    expectMoney(e.amount, 1000);
    expectMoney(e.balanceAfter, 251000);
    expect(String(e.note)).toContain(reason);
    expect(typeof e.reference).toBe('string');
    // the two references differ (uniqueness is what prevents double application)
    expect(new Set(l.items.map((x) => x.reference)).size).toBe(2);
  });

  it('a negative adjustment within the balance lowers it', async () => {
    const { client, id } = await newUser();
    const res = await adjust(id, -50000, 'refund of trial part');
    expectApplied(res);
    expectMoney(res.body.entry.amount, -50000);
    expect(res.body.entry.amount.usd).toBe('-0.100000');
    expect(await balance(client)).toBe(200000);
  });

  it('a negative adjustment below zero is refused with 400 and changes nothing', async () => {
    const { client, id } = await newUser();
    const res = await adjust(id, -250001, 'too much');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { message: expect.any(String), code: expect.any(String) } });
    expect(await balance(client)).toBe(250000);
    expect((await ledger(client)).total).toBe(1);
    // exactly down to zero is allowed
    expectApplied(await adjust(id, -250000, 'to zero'));
    expect(await balance(client)).toBe(0);
  });

  it.each([
    ['non-integer quota', { quota: 1.5, reason: 'x' }],
    ['string quota', { quota: 'lots', reason: 'x' }],
    ['missing reason', { quota: 10 }],
    ['empty reason', { quota: 10, reason: '' }],
  ])('rejects %s with 400', async (_l, body) => {
    const { client, id } = await newUser();
    const res = await gw.admin.post(`/api/admin/users/${id}/adjust`, body);
    expect(res.status).toBe(400);
    expect(await balance(client)).toBe(250000);
  });

  it('adjusting an unknown user is 404', async () => {
    expect((await adjust(99999999, 10, 'ghost')).status).toBe(404);
  });

  it('the same Idempotency-Key applies only once', async () => {
    const { client, id } = await newUser();
    const key = `idem-${uniq('k')}`;
    const first = await adjust(id, 7000, 'bonus', { 'Idempotency-Key': key });
    expectApplied(first);
    const second = await adjust(id, 7000, 'bonus', { 'Idempotency-Key': key });
    expect([200, 201, 409]).toContain(second.status);
    if (second.status !== 409) expect(second.body.entry.id).toBe(first.body.entry.id);
    expect(await balance(client)).toBe(257000);
    const l = await ledger(client);
    expect(l.items.filter((e) => e.kind === 'adjustment')).toHaveLength(1);

    // concurrent duplicates also apply once
    const key2 = `idem-${uniq('k')}`;
    await Promise.all([1, 2, 3, 4].map(() => adjust(id, 100, 'burst', { 'Idempotency-Key': key2 })));
    expect(await balance(client)).toBe(257100);
    // a different key applies again
    expectApplied(await adjust(id, 7000, 'bonus', { 'Idempotency-Key': `${key}-b` }));
    expect(await balance(client)).toBe(264100);
  });
});

describe('usage moves the wallet', () => {
  it('a served request lowers the balance by its cost, raises used and requestCount, entries still sum to the balance', async () => {
    const { client, key } = await createUserWithKey(gw, { username: uniq('use') });
    let spent = 0;
    for (const maxTokens of [8, 3]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello' }] }),
      });
      expect(res.status).toBe(200);
      const u = ((await res.json()) as any).usage;
      spent += u.prompt_tokens + 4 * u.completion_tokens;
    }
    expect(spent).toBe(10 + 32 + 10 + 12);
    const w = await client.get('/api/wallet');
    expectMoney(w.body.balance, 250000 - spent);
    expectMoney(w.body.used, spent);
    expect(w.body.requestCount).toBe(2);
    if (w.body.held !== undefined) expectMoney(w.body.held, 0);
    const l = await ledger(client);
    const sum = l.items.reduce((acc, e) => acc + e.amount.quota, 0);
    expect(sum).toBe(250000 - spent);
    for (const e of l.items) expect(['trial', 'usage']).toContain(e.kind);
    expect(l.items.filter((e) => e.kind === 'usage').reduce((a, e) => a + e.amount.quota, 0)).toBe(-spent);
  });
});

describe('ledger listing', () => {
  it('every money value is {quota:int, usd:string} and entries sum to the balance', async () => {
    const { client, id } = await newUser();
    for (const q of [1, 3, -7, 499999, 123]) expectApplied(await adjust(id, q, `adj ${q}`));
    const w = await client.get('/api/wallet');
    for (const k of ['balance', 'used']) expectMoney(w.body[k]);
    expect(Number.isInteger(w.body.requestCount)).toBe(true);
    const l = await ledger(client);
    expect(l.total).toBe(6);
    let sum = 0;
    for (const e of l.items) {
      expectMoney(e.amount);
      expectMoney(e.balanceAfter);
      sum += e.amount.quota;
    }
    expect(sum).toBe(w.body.balance.quota);
    expect(w.body.balance.quota).toBe(250000 + 1 + 3 - 7 + 499999 + 123);
    // the largest balanceAfter chain ends at the current balance
    const latest = [...l.items].sort((a, b) => Number(b.id) - Number(a.id))[0];
    expect(latest.balanceAfter.quota).toBe(w.body.balance.quota);
  });

  it('paginates with page/pageSize/total', async () => {
    const { client, id } = await newUser();
    for (let i = 1; i <= 6; i++) expectApplied(await adjust(id, i, `p${i}`));
    const p1 = await ledger(client, 'page=1&pageSize=3');
    expect(p1).toMatchObject({ total: 7, page: 1, pageSize: 3 });
    expect(p1.items).toHaveLength(3);
    const p2 = await ledger(client, 'page=2&pageSize=3');
    expect(p2).toMatchObject({ total: 7, page: 2, pageSize: 3 });
    expect(p2.items).toHaveLength(3);
    const p3 = await ledger(client, 'page=3&pageSize=3');
    expect(p3.items).toHaveLength(1);
    const p4 = await ledger(client, 'page=4&pageSize=3');
    expect(p4.items).toHaveLength(0);
    expect(p4.total).toBe(7);
    const ids = [...p1.items, ...p2.items, ...p3.items].map((e) => e.id);
    expect(new Set(ids).size).toBe(7);
    // default page size is 20 and page 1
    const def = await ledger(client, '');
    expect(def).toMatchObject({ page: 1, pageSize: 20, total: 7 });
  });

  it('refuses invalid pagination with 400 naming the parameter, never 500', async () => {
    const { client } = await newUser();
    for (const q of ['page=0', 'page=-1', 'pageSize=0', 'pageSize=abc', 'pageSize=100000']) {
      const res = await client.get(`/api/wallet/ledger?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toContain(q.split('=')[0]);
    }
  });

  it('a user sees only their own ledger and wallet', async () => {
    const a = await newUser();
    const b = await newUser();
    const reason = `only-for-b ${uniq('r')}`;
    expectApplied(await adjust(b.id, 4242, reason));
    for (const q of ['pageSize=200', `pageSize=200&userId=${b.id}`]) {
      const la = await ledger(a.client, q);
      expect(la.total).toBe(1);
      expect(JSON.stringify(la.items)).not.toContain(reason);
      expect(la.items.every((e) => e.kind === 'trial' && String(e.reference).includes(String(a.id)))).toBe(true);
    }
    expect(await balance(a.client)).toBe(250000);
    expect(await balance(b.client)).toBe(254242);
    const lb = await ledger(b.client);
    expect(lb.items.some((e) => String(e.note).includes(reason))).toBe(true);
  });
});
