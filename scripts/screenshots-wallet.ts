// Wallet data for `npm run screenshots`, around the week of usage seeded there: alice pays top-ups
// through a fake Lantu Pay, redeems a code and invites two friends before the week's traffic; after
// it she has an invoice issued for an old top-up, a fresh top-up not yet invoiceable, a bank-transfer
// order waiting for the admin and a top-up being paid (its QR code open on the page). Everything goes
// through the real API, in the order the page shows it, so every "balance after" adds up; only times
// are moved back afterwards.
import { startFakeLantu, type FakeLantu } from '../test/fakes/payments/lantu.ts';
import { ApiClient } from '../test/helpers/api.ts';
import type { TestGateway } from '../test/helpers/gateway.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function must<T = any>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function walletSeeder(gw: TestGateway, username: string, password: string): Promise<{ lantu: FakeLantu; beforeTraffic(): Promise<void>; afterTraffic(): Promise<string> }> {
  const lantu = await startFakeLantu({ mchId: '1230000109', key: 'screenshots-lantu-key' });
  const db = gw.gateway.db;
  const alice = new ApiClient(gw.url);
  const paid: string[] = [];
  const payLantu = async (usd: string, channel: 'alipay' | 'wxpay') => {
    const order = await must(alice.post('/api/wallet/topup', { amount: usd, method: 'lantu', channel }), 'topup');
    await lantu.pay(order.orderNo);
    return order.orderNo as string;
  };
  /** Moves an order and its credits to `time` (created then, paid 90 s later). */
  const retime = async (orderNo: string, time: number) => {
    await db.run('UPDATE payment_orders SET created_at = ?, paid_at = ?, expires_at = ? WHERE order_no = ?', [time, time + 90_000, time + 30 * 60_000, orderNo]);
    await db.run('UPDATE ledger_entries SET created_at = ? WHERE reference IN (?, ?)', [time + 90_000, `topup:${orderNo}`, `topup:${orderNo}:bonus`]);
  };

  return {
    lantu,
    async beforeTraffic() {
      await must(gw.admin.put('/api/admin/payment-providers/lantu', { enabled: true, baseUrl: lantu.url, mchId: '1230000109', key: 'screenshots-lantu-key' }), 'lantu');
      await must(gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'China Merchants Bank, Shanghai Branch', accountName: 'Mole Tech Ltd', accountNo: '6214 8312 0000 4821' }), 'transfer');
      await alice.login(username, password);
      paid.push(await payLantu('100', 'alipay'), await payLantu('50', 'wxpay'));
      const batch = await must(gw.admin.post('/api/admin/redemption-codes', { name: 'launch week', usd: '5', count: 3 }), 'codes');
      await must(alice.post('/api/wallet/redeem', { code: batch.codes[0] }), 'redeem');
      const referral = await must(alice.get('/api/wallet/referral'), 'referral');
      for (const friend of ['dave', 'erin']) await must(new ApiClient(gw.url).post('/api/auth/register', { username: friend, password, inviteCode: referral.code }), 'friend');
    },
    async afterTraffic() {
      // The week of usage starts ~6.9 days ago: everything before it moves to the days before.
      const now = Date.now();
      await db.run("UPDATE ledger_entries SET created_at = ? WHERE kind = 'trial'", [now - 10 * DAY - 3 * HOUR]);
      await db.run("UPDATE ledger_entries SET created_at = ? WHERE kind = 'adjustment'", [now - 10 * DAY - 2 * HOUR]);
      await retime(paid[0]!, now - 9 * DAY - 5 * HOUR);
      await retime(paid[1]!, now - 8 * DAY - 4 * HOUR);
      await db.run("UPDATE ledger_entries SET created_at = ? WHERE kind = 'redemption'", [now - 7 * DAY - 6 * HOUR]);
      await db.run("UPDATE ledger_entries SET created_at = ? + id * 60000 WHERE kind = 'referral'", [now - 7 * DAY - 2 * HOUR]);

      const invoice = await must(
        alice.post('/api/wallet/invoices', { orderNos: [paid[0]], type: 'standard', title: 'Alice Analytics Co., Ltd.', taxId: '91310115MA1H7XQ25C', email: 'finance@alice.example', lineItem: 'Information technology services' }),
        'invoice',
      );
      await must(gw.admin.post(`/api/admin/invoices/${invoice.id}/issue`, { url: 'https://invoices.example.com/e/2026-001842.pdf' }), 'issue');
      await payLantu('10', 'wxpay'); // today: invoiceable in 7 days
      await must(alice.post('/api/wallet/topup', { amount: '500', method: 'transfer' }), 'transfer order');
      const pending = await must(alice.post('/api/wallet/topup', { amount: '20', method: 'lantu', channel: 'wxpay' }), 'pending');
      return pending.orderNo as string;
    },
  };
}
