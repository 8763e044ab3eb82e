// Referral: invite code and link, the inviter's reward at registration (once per invitee, nothing from a
// disabled inviter, 0 allowed), the invitee's trial credit, and the top-up rebate function.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUniqueViolation } from '../src/db/index.ts';
import { checkLedger } from '../src/ledger/entries.ts';
import { applyReferralRebate } from '../src/wallet/referral.ts';
import { ApiClient } from './helpers/api.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let seq = 0;
const uniq = (p = 'rf') => `${p}_${Date.now().toString(36)}_${++seq}`;
const PASSWORD = 'referral-pass-123';

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

async function register(inviteCode?: string) {
  const username = uniq();
  const client = new ApiClient(gw.url);
  const res = await client.post('/api/auth/register', { username, password: PASSWORD, ...(inviteCode === undefined ? {} : { inviteCode }) });
  return { res, client, username };
}

async function newUser(inviteCode?: string) {
  const { res, client, username } = await register(inviteCode);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await client.login(username, PASSWORD);
  const referral = (await client.get('/api/wallet/referral')).body as { code: string; link: string; invitedCount: number; rewards: { quota: number; usd: string } };
  return { client, id: res.body.user.id as number, referral };
}

const walletOf = async (c: ApiClient) => (await c.get('/api/wallet')).body;
const ledgerOf = async (c: ApiClient) => (await c.get('/api/wallet/ledger?pageSize=200')).body.items as any[];
async function expectLedgerBalanced() {
  expect((await checkLedger(gw.gateway.db)).mismatches).toEqual([]);
}
async function setSettings(patch: Record<string, unknown>) {
  const res = await gw.admin.patch('/api/admin/settings', patch);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

describe('invite code and link', () => {
  it('every user has a code and a link on the origin they called; nobody invited yet', async () => {
    const u = await newUser();
    expect(u.referral.code).toMatch(/^[\w-]{6,}$/);
    expect(u.referral.link).toBe(`${gw.url}/register?invite=${encodeURIComponent(u.referral.code)}`);
    expect(u.referral.invitedCount).toBe(0);
    expect(u.referral.rewards).toEqual({ quota: 0, usd: '0.000000' });
    expect((await new ApiClient(gw.url).get('/api/wallet/referral')).status).toBe(401);
  });
});

describe('registering with an invite code', () => {
  it('credits the inviter $0.50 as a referral entry (referral:<inviteeId>); the invitee gets the normal trial', async () => {
    const inviter = await newUser();
    const invitee = await newUser(inviter.referral.code);
    const w = await walletOf(inviter.client);
    expect(w.balance.quota).toBe(500_000);
    expect(w.referralRewards).toEqual({ quota: 250_000, usd: '0.500000' });
    const entry = (await ledgerOf(inviter.client)).find((e) => e.kind === 'referral');
    expect(entry).toMatchObject({ amount: { quota: 250_000 }, reference: `referral:${invitee.id}` });
    expect((await walletOf(invitee.client)).balance.quota).toBe(250_000);
    expect((await ledgerOf(invitee.client)).map((e) => e.kind)).toEqual(['trial']);
    const ref = (await inviter.client.get('/api/wallet/referral')).body;
    expect(ref).toMatchObject({ invitedCount: 1, rewards: { quota: 250_000, usd: '0.500000' } });
    await expectLedgerBalanced();
  });

  it('one reward per invitee: 8 people registering at once each earn the inviter exactly one', async () => {
    const inviter = await newUser();
    const results = await Promise.all(Array.from({ length: 8 }, () => register(inviter.referral.code)));
    for (const r of results) expect(r.res.status).toBe(201);
    const rewards = (await ledgerOf(inviter.client)).filter((e) => e.kind === 'referral');
    expect(rewards).toHaveLength(8);
    expect(new Set(rewards.map((e) => e.reference))).toEqual(new Set(results.map((r) => `referral:${r.res.body.user.id}`)));
    expect((await walletOf(inviter.client)).balance.quota).toBe(250_000 + 8 * 250_000);
    expect((await inviter.client.get('/api/wallet/referral')).body.invitedCount).toBe(8);
    await expectLedgerBalanced();
  });

  it('follows referralRewardQuota; 0 gives nothing but still counts the invitee', async () => {
    const inviter = await newUser();
    try {
      await setSettings({ referralRewardQuota: 12_345 });
      await newUser(inviter.referral.code);
      await setSettings({ referralRewardQuota: 0 });
      await newUser(inviter.referral.code);
    } finally {
      await setSettings({ referralRewardQuota: 250_000 });
    }
    const ref = (await inviter.client.get('/api/wallet/referral')).body;
    expect(ref.invitedCount).toBe(2);
    expect(ref.rewards.quota).toBe(12_345);
    expect((await ledgerOf(inviter.client)).filter((e) => e.kind === 'referral')).toHaveLength(1);
    expect((await walletOf(inviter.client)).balance.quota).toBe(250_000 + 12_345);
  });

  it('a disabled inviter earns nothing; the invitee is still registered with the trial', async () => {
    const inviter = await newUser();
    expect((await gw.admin.patch(`/api/admin/users/${inviter.id}`, { enabled: false })).status).toBe(200);
    const { res, client, username } = await register(inviter.referral.code);
    expect(res.status).toBe(201);
    await client.login(username, PASSWORD);
    expect((await walletOf(client)).balance.quota).toBe(250_000);
    const rows = await gw.gateway.db.all(`SELECT * FROM ledger_entries WHERE user_id = ? AND kind = 'referral'`, [inviter.id]);
    expect(rows).toEqual([]);
    expect(Number((await gw.gateway.db.get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [inviter.id]))!.balance)).toBe(250_000);
    await expectLedgerBalanced();
  });

  it('an unknown invite code is 400 invalid_invite_code and creates no account', async () => {
    const { res, username } = await register('no-such-code');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_invite_code');
    expect(await gw.gateway.db.get('SELECT id FROM users WHERE username = ?', [username])).toBeUndefined();
  });

  it('an empty or null invite code registers without an inviter', async () => {
    for (const code of ['', null]) {
      const { res } = await register(code as string);
      expect(res.status).toBe(201);
      const row = await gw.gateway.db.get<{ inviter_id: unknown }>('SELECT inviter_id FROM users WHERE id = ?', [res.body.user.id]);
      expect(row!.inviter_id).toBeNull();
    }
  });
});

describe('applyReferralRebate (called by the top-up credit transaction)', () => {
  const db = () => gw.gateway.db;
  const balance = async (id: number) => Number((await db().get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [id]))!.balance);

  it('credits the inviter the percentage, rounded down to whole points, as referral rebate:<orderNo>', async () => {
    const inviter = await newUser();
    const invitee = await newUser(inviter.referral.code);
    const before = await balance(inviter.id);
    const orderNo = uniq('order');
    const entry = await db().tx((q) => applyReferralRebate(q, { inviteeId: invitee.id, orderNo, paidQuota: 1_000_019, settings: { referralRebatePercent: 7 } }));
    expect(entry).toMatchObject({ userId: inviter.id, kind: 'referral', amount: 70_001, reference: `rebate:${orderNo}` }); // 7 % of 1,000,019 = 70,001.33
    expect(await balance(inviter.id)).toBe(before + 70_001);
    expect((await inviter.client.get('/api/wallet/referral')).body.rewards.quota).toBe(250_000 + 70_001);
    expect((await walletOf(inviter.client)).referralRewards.quota).toBe(250_000 + 70_001);
    // the same order again: the reference is unique, so that transaction fails and nothing changes
    const again = await db()
      .tx((q) => applyReferralRebate(q, { inviteeId: invitee.id, orderNo, paidQuota: 1_000_019, settings: { referralRebatePercent: 7 } }))
      .then(() => null, (err) => err);
    expect(isUniqueViolation(again)).toBe(true);
    expect(await balance(inviter.id)).toBe(before + 70_001);
    await expectLedgerBalanced();
  });

  it('writes nothing at 0 %, for an invitee without inviter, for a disabled inviter, or when it rounds to 0', async () => {
    const inviter = await newUser();
    const invitee = await newUser(inviter.referral.code);
    const loner = await newUser();
    const before = await balance(inviter.id);
    const rebate = (inviteeId: number, paidQuota: number, percent: number) =>
      db().tx((q) => applyReferralRebate(q, { inviteeId, orderNo: uniq('o'), paidQuota, settings: { referralRebatePercent: percent } }));
    expect(await rebate(invitee.id, 1_000_000, 0)).toBeNull();
    expect(await rebate(loner.id, 1_000_000, 50)).toBeNull();
    expect(await rebate(invitee.id, 99, 1)).toBeNull(); // 0.99 points
    expect(await rebate(invitee.id, 0, 10)).toBeNull();
    expect(await balance(inviter.id)).toBe(before);
    expect((await rebate(invitee.id, 100, 100))!.amount).toBe(100);
    await gw.admin.patch(`/api/admin/users/${inviter.id}`, { enabled: false });
    expect(await rebate(invitee.id, 1_000_000, 50)).toBeNull();
    expect(await balance(inviter.id)).toBe(before + 100);
    await expectLedgerBalanced();
  });

  it('rolls back with the caller’s transaction', async () => {
    const inviter = await newUser();
    const invitee = await newUser(inviter.referral.code);
    const before = await balance(inviter.id);
    const orderNo = uniq('rollback');
    await expect(
      db().tx(async (q) => {
        await applyReferralRebate(q, { inviteeId: invitee.id, orderNo, paidQuota: 500_000, settings: { referralRebatePercent: 10 } });
        throw new Error('order update failed');
      }),
    ).rejects.toThrow('order update failed');
    expect(await balance(inviter.id)).toBe(before);
    expect(await db().get('SELECT id FROM ledger_entries WHERE reference = ?', [`rebate:${orderNo}`])).toBeUndefined();
  });
});

describe('settings', () => {
  it('defaults and validation of the wallet settings', async () => {
    const s = (await gw.admin.get('/api/admin/settings')).body;
    expect(s).toMatchObject({ referralRewardQuota: 250_000, referralRebatePercent: 0, invoiceDelayDays: 7, alertThresholdQuota: 500_000, allowPrivateWebhooks: false });
    for (const bad of [{ referralRewardQuota: -1 }, { referralRebatePercent: 101 }, { referralRebatePercent: 2.5 }, { invoiceDelayDays: -1 }, { alertThresholdQuota: 0.5 }, { allowPrivateWebhooks: 'yes' }]) {
      const res = await gw.admin.patch('/api/admin/settings', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.issues[0].path).toEqual(Object.keys(bad));
    }
    await setSettings({ referralRebatePercent: 15, invoiceDelayDays: 3, alertThresholdQuota: 1, allowPrivateWebhooks: true });
    expect((await gw.admin.get('/api/admin/settings')).body).toMatchObject({ referralRebatePercent: 15, invoiceDelayDays: 3, alertThresholdQuota: 1, allowPrivateWebhooks: true });
    await setSettings({ referralRebatePercent: 0, invoiceDelayDays: 7, alertThresholdQuota: 500_000, allowPrivateWebhooks: false });
  });
});

describe('rebate on a paid top-up (end to end)', () => {
  const db = () => gw.gateway.db;
  const balance = async (id: number) => Number((await db().get<{ balance: number }>('SELECT balance FROM users WHERE id = ?', [id]))!.balance);
  it('an admin-confirmed transfer credits the inviter 10 % of the points paid for (not the bonus), once; sandbox earns none', async () => {
    const inviter = await newUser();
    const invitee = await newUser(inviter.referral.code);
    await setSettings({ referralRebatePercent: 10 });
    try {
      expect((await gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'Bank', accountName: 'Mole', accountNo: '1' })).status).toBe(200);
      expect((await gw.admin.put('/api/admin/payment-providers/sandbox', { enabled: true })).status).toBe(200);
      const before = await balance(inviter.id);
      // $100 carries a tier bonus by default: the rebate is 10 % of the 50,000,000 points paid for.
      const order = await invitee.client.post('/api/wallet/topup', { amount: '100', method: 'transfer' });
      expect(order.status, JSON.stringify(order.body)).toBe(201);
      expect(order.body.bonus.quota).toBeGreaterThan(0);
      expect(await balance(inviter.id)).toBe(before);
      expect((await gw.admin.post(`/api/admin/orders/${order.body.orderNo}/confirm`, {})).status).toBe(200);
      expect(await balance(inviter.id)).toBe(before + 5_000_000);
      const entry = await db().get<{ kind: string; amount: number }>('SELECT kind, amount FROM ledger_entries WHERE reference = ?', [`rebate:${order.body.orderNo}`]);
      expect(entry && [entry.kind, Number(entry.amount)]).toEqual(['referral', 5_000_000]);
      // Confirming again credits nothing more.
      expect((await gw.admin.post(`/api/admin/orders/${order.body.orderNo}/confirm`, {})).status).toBe(409);
      expect(await balance(inviter.id)).toBe(before + 5_000_000);

      const sandbox = await invitee.client.post('/api/wallet/topup', { amount: '10', method: 'sandbox' });
      expect(sandbox.status, JSON.stringify(sandbox.body)).toBe(201);
      expect(sandbox.body.status).toBe('paid');
      expect(await balance(inviter.id)).toBe(before + 5_000_000);
      await expectLedgerBalanced();
    } finally {
      await setSettings({ referralRebatePercent: 0 });
    }
  });
});
