// The wallet page in a real browser (Debian Chromium via playwright-core) against the real gateway, a
// fake OpenAI upstream and a fake Lantu Pay: a user registers with an invite code, sees the trial
// credit, calls the gateway with a key and sees the wallet change; tops up through Lantu (the QR code
// drawn in the page, the CNY amount, a countdown), the fake provider sends its signed notify and the
// status flips to paid without a reload; redeems a code; opens a bank-transfer order; asks for an
// invoice (refused before 7 days with the date shown, accepted after: the wallet clock is moved);
// filters and exports the history; the inviter sees the reward. Every state is checked with axe.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { walletClock } from '../src/wallet/clock.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { startFakeLantu, type FakeLantu } from './fakes/payments/lantu.ts';
import { ApiClient } from './helpers/api.ts';
import { buildConsole, hasChromium, launchBrowser, seriousA11yViolations } from './helpers/console.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const MODEL = 'wallet-e2e-model';
const stamp = Date.now().toString(36);
const INVITER = `inviter_${stamp}`;
const USERNAME = `walter_${stamp}`;
const PASSWORD = 'walter-password-1';
const DAY = 86_400_000;
const realNow = walletClock.now;

let gw: TestGateway;
let up: FakeOpenAI;
let lantu: FakeLantu;
let webDir: string;
let context: BrowserContext;
let userDataDir: string;
let page: Page;
const cspViolations: string[] = [];
const POLL = { timeout: 10_000, interval: 100 };

async function expectAccessible(name: string) {
  expect(await seriousA11yViolations(page), `axe on ${name}`).toEqual([]);
}
const text = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? '';

async function signIn(username: string, password: string) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe.skipIf(!hasChromium)('wallet page in a browser', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    [webDir, up, lantu] = await Promise.all([buildConsole(), startFakeOpenAI(), startFakeLantu({ mchId: '1230000109', key: 'lantu-e2e-key', retryDelaysMs: [50, 100] })]);
    gw = await startGateway({ env: { WEB_DIR: webDir } });
    const must = async (p: Promise<{ status: number; body: unknown }>) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    };
    await must(gw.admin.post('/api/admin/channels', { name: 'fake openai', type: 'openai', baseUrl: up.url, apiKey: 'sk-upstream', models: [MODEL] }));
    await must(gw.admin.put(`/api/admin/prices/${MODEL}`, { input: '2', output: '8' }));
    await must(gw.admin.put('/api/admin/payment-providers/lantu', { enabled: true, baseUrl: lantu.url, mchId: '1230000109', key: 'lantu-e2e-key' }));
    await must(gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'Bank of Mole', accountName: 'Mole Ltd', accountNo: '6222 0000 1111' }));
    await must(gw.admin.put('/api/admin/payment-providers/sandbox', { enabled: true }));
    await must(new ApiClient(gw.url).post('/api/auth/register', { username: INVITER, password: PASSWORD }));

    ({ context, userDataDir } = await launchBrowser());
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 240_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await page?.screenshot({ path: join(tmpdir(), `console-wallet-e2e-failure-${ctx.task.id}.png`), fullPage: true }).catch(() => undefined);
  });
  afterAll(async () => {
    walletClock.now = realNow;
    await context?.close();
    await gw?.close();
    await up?.close();
    await lantu?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('registers with an invite code, sees the trial credit, calls the gateway with a key, sees the wallet change', async () => {
    const inviter = await gw.gateway.db.get<{ aff_code: string }>('SELECT aff_code FROM users WHERE username = ?', [INVITER]);
    await page.goto(`${gw.url}/register?invite=${inviter!.aff_code}`);
    expect(await page.inputValue('#invite')).toBe(inviter!.aff_code);
    await page.fill('#username', USERNAME);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${gw.url}/wallet`);

    await expect.poll(() => text('wallet-trial'), POLL).toContain('$0.50');
    expect(await text('wallet-trial')).toContain('250,000 points');
    await expect.poll(() => text('wallet-balance'), POLL).toContain('250,000 points');
    expect(await text('wallet-runway')).toContain('No spend in the last 7 days');
    // Getting started: the trial step is ticked, the others not yet.
    expect(await page.getByTestId('wallet-guide').locator('li.done').count()).toBe(1);
    // Every enabled method by the name users know; the sandbox clearly labelled.
    for (const name of ['WeChat Pay · Lantu Pay', 'Alipay · Lantu Pay', 'Bank transfer', 'Sandbox (test payment, no real money)']) {
      expect(await page.getByRole('radio', { name, exact: false }).count(), name).toBe(1);
    }
    expect(await page.locator('.method', { hasText: 'Sandbox' }).textContent()).toContain('SANDBOX');
    await page.waitForLoadState('networkidle');
    await expectAccessible('wallet');

    const me = new ApiClient(gw.url);
    await me.login(USERNAME, PASSWORD);
    const key = await me.post('/api/keys', { name: 'wallet project' });
    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${gw.url}/v1` });
    const answer = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 5 });
    expect(answer.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });

    // 10 + 5 tokens at $2 / $8 per 1M = 10 + 20 points.
    await page.reload();
    await expect.poll(() => text('wallet-balance'), POLL).toContain('249,970 points');
    expect(await text('wallet-used')).toContain('30 points');
    expect(await text('wallet-requests')).toBe('Requests1');
    expect(await text('wallet-runway')).toMatch(/Lasts ~[\d,.]+ days at your 7-day average/);
    expect(await page.getByTestId('wallet-guide').locator('li.done').count()).toBe(2);
  });

  it('tops up with Lantu Pay: QR code, CNY amount, countdown, and paid without a reload when the notify lands', async () => {
    await page.getByRole('radio', { name: /^\$20\.00/ }).check();
    await page.getByRole('radio', { name: 'WeChat Pay · Lantu Pay' }).check();
    expect(await text('topup-price')).toBe('¥144.00');
    // A custom amount below the minimum is refused inline before anything is sent.
    await page.fill('#topup-custom', '0.5');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await expect.poll(async () => page.getByText('The minimum top-up is $1.00.').isVisible(), POLL).toBe(true);
    await page.fill('#topup-custom', '');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();

    const panel = page.getByTestId('order-panel');
    await panel.waitFor();
    await expect.poll(() => text('order-status'), POLL).toContain('Waiting for payment');
    await page.getByTestId('order-qr').waitFor();
    expect(await text('order-amount')).toBe('¥144.00');
    // 30 minutes from creation (orderExpiryMinutes), counting down.
    const [, mm, ss] = /Expires in (\d\d):(\d\d)/.exec(await text('order-countdown'))!;
    expect(Number(mm) * 60 + Number(ss)).toBeGreaterThan(25 * 60);
    expect(Number(mm) * 60 + Number(ss)).toBeLessThanOrEqual(30 * 60);
    expect(await page.getByRole('img', { name: 'QR code to pay this order' }).count()).toBe(1);
    const orderNo = new URL(page.url()).searchParams.get('order')!;
    const fakeOrder = lantu.orders.get(orderNo)!;
    expect(fakeOrder).toMatchObject({ totalFee: '144.00', tradeType: 'NATIVE', payStatus: 0 });
    await expectAccessible('wallet with a QR order');

    // No reload may happen between now and "paid": a marker on the window would be lost.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const [delivery] = await lantu.pay(orderNo);
    expect(delivery!.attempts.at(-1)).toEqual({ status: 200, body: 'SUCCESS' });
    await expect.poll(() => text('order-status'), POLL).toContain('Paid');
    expect(await text('order-status')).toContain('The balance has been credited.');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    // $20 = 10,000,000 points on top of 249,970.
    await expect.poll(() => text('wallet-balance'), POLL).toContain('10,249,970 points');
    expect(await page.locator('#orders tbody tr', { hasText: orderNo }).textContent()).toContain('Paid');
    await page.getByTestId('order-panel').getByRole('button', { name: 'Close' }).click();
  });

  it('redeems a code; a wrong code shows the server message', async () => {
    const batch = await gw.admin.post('/api/admin/redemption-codes', { name: 'welcome', usd: '5', count: 1 });
    expect(batch.status).toBe(201);
    await page.fill('#redeem-code', 'NOPE-NOPE-NOPE');
    await page.getByRole('button', { name: 'Redeem' }).click();
    await expect.poll(async () => page.getByText('That redemption code does not exist.').isVisible(), POLL).toBe(true);
    await page.fill('#redeem-code', batch.body.codes[0].toLowerCase());
    await page.getByRole('button', { name: 'Redeem' }).click();
    await expect.poll(() => text('redeem-result'), POLL).toContain('$5.00');
    await expect.poll(() => text('wallet-balance'), POLL).toContain('12,749,970 points');
  });

  it('creates a bank-transfer order and sees the account and the reference to write on it', async () => {
    await page.fill('#transfer-amount', '100');
    await page.getByRole('button', { name: 'Create transfer order' }).click();
    await page.getByTestId('transfer-details').waitFor();
    const details = await text('transfer-details');
    expect(details).toContain('Bank of Mole');
    expect(details).toContain('¥720.00');
    expect(await text('transfer-reference')).toMatch(/^MOLE-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await expectAccessible('wallet with a transfer order');
  });

  it('asks for an invoice: refused before 7 days with the eligible date shown, accepted after', async () => {
    const order = await gw.gateway.db.get<{ order_no: string; paid_at: number }>("SELECT order_no, paid_at FROM payment_orders WHERE provider = 'lantu' AND status = 'paid'");
    const paidAt = Number(order!.paid_at);
    const item = page.locator('.invoice-orders label', { hasText: '¥144.00' });
    const eligible = await page.evaluate((t) => new Date(t).toLocaleDateString('en-US', { dateStyle: 'medium' }), paidAt + 7 * DAY);
    expect(await item.textContent()).toContain(`can be invoiced from ${eligible}`);
    await page.getByRole('button', { name: 'Request invoice' }).click();
    await expect.poll(async () => page.getByText('Choose at least one top-up.').isVisible(), POLL).toBe(true);
    await item.locator('input[type=checkbox]').check();
    await page.fill('#invoice-title', 'Mole Testing Ltd');
    await page.fill('#invoice-taxid', '91310000MA1K000001');
    await page.fill('#invoice-email', 'finance@example.com');
    await page.getByRole('button', { name: 'Request invoice' }).click();
    const shownAt = await page.evaluate((t) => new Date(t).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' }), paidAt + 7 * DAY);
    await expect.poll(() => text('invoice-orders-msg'), POLL).toContain(`Eligible from ${shownAt}.`);
    expect(await text('invoice-orders-msg')).toContain('a top-up can be invoiced 7 days after it was paid');
    await expectAccessible('wallet with an invoice refusal');

    walletClock.now = () => paidAt + 8 * DAY;
    await page.getByRole('button', { name: 'Request invoice' }).click();
    await expect.poll(async () => page.getByText('Requested: it will appear below once issued.').isVisible(), POLL).toBe(true);
    const row = page.locator('tbody tr', { hasText: 'Mole Testing Ltd' });
    await expect.poll(() => row.textContent(), POLL).toContain('Pending');
    expect(await row.textContent()).toContain('¥144.00');
    expect(await item.textContent()).toMatch(/on invoice #\d+/);
  });

  it('filters the history by kind and exports the same filter as CSV', async () => {
    const ledger = page.locator('#ledger');
    await ledger.getByRole('combobox', { name: 'Kind' }).selectOption('topup');
    await expect.poll(async () => ledger.locator('tbody tr').count(), POLL).toBe(1);
    expect(await ledger.locator('tbody tr').textContent()).toContain('Top-up');
    const href = await ledger.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(href).toBe('/api/wallet/ledger?format=csv&kind=topup');
    const csv = await page.request.get(`${gw.url}${href}`);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,kind,amount_quota,amount_usd,balance_after_quota,balance_after_usd,reference,created_at,note,day,requests');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['topup']);
    await ledger.getByRole('combobox', { name: 'Kind' }).selectOption('');
    await expect.poll(async () => ledger.locator('tbody tr').count(), POLL).toBeGreaterThanOrEqual(4);
  });

  it('works in Chinese and at 390 px without sideways scrolling', async () => {
    await page.getByRole('button', { name: /中文/ }).click();
    await expect.poll(async () => page.getByRole('heading', { name: '钱包', level: 2 }).isVisible(), POLL).toBe(true);
    expect(await page.getByRole('radio', { name: '微信支付 · 蓝兔支付' }).count()).toBe(1);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForLoadState('networkidle');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible('wallet (zh, phone)');
    await page.getByRole('button', { name: 'English' }).click();
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it("the inviter's referral section shows the registration and the reward", async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gw.url}/sign-in`);
    await signIn(INVITER, PASSWORD);
    await page.waitForURL(`${gw.url}/`);
    await page.goto(`${gw.url}/wallet`);
    await expect.poll(() => text('referral-invited'), POLL).toContain('1');
    expect(await text('referral-rewards')).toContain('$0.50');
    const referral = page.getByTestId('wallet-referral');
    const link = await referral.locator('#referral-link').inputValue();
    expect(link).toMatch(new RegExp(`^${gw.url}/register\\?invite=`));
    await referral.getByRole('button', { name: 'Copy link' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await page.waitForLoadState('networkidle');
    await expectAccessible('wallet (inviter)');
  });

  it('no step broke the console CSP', () => {
    expect(cspViolations).toEqual([]);
  });
});
