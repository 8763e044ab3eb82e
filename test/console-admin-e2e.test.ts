// The console's admin and user pages in a real browser (Debian Chromium via playwright-core) against the
// real gateway, a fake OpenAI upstream and a real webhook receiver. Admin: adds a channel and a price,
// changes site settings, generates redemption codes (the CSV is downloaded once), enables bank
// transfers, confirms a transfer order and issues an invoice for it. User: sees no admin page (the API
// answers 403), sets a webhook alert and receives the test message, streams a reply in the playground
// and is charged for it. Every page visited is checked with axe (no serious or critical violation).
import { createHmac } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from './fakes/notify/receiver.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { ApiClient } from './helpers/api.ts';
import { buildConsole, hasChromium, launchBrowser, seriousA11yViolations } from './helpers/console.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const MODEL = 'admin-e2e-model';
const SLOW_MODEL = 'admin-e2e-slow'; // the fake upstream streams "slow" models one word every 100 ms
const USERNAME = `bea_${Date.now().toString(36)}`;
const PASSWORD = 'bea-password-1';
const POLL = { timeout: 15_000, interval: 100 };

let gw: TestGateway;
let up: FakeOpenAI;
let hook: Receiver;
let webDir: string;
let context: BrowserContext;
let userDataDir: string;
let page: Page;
let user: ApiClient;
let userId = 0;
let transferOrderNo = '';
const cspViolations: string[] = [];

async function expectAccessible(name: string) {
  await page.waitForLoadState('networkidle');
  expect(await seriousA11yViolations(page), `axe on ${name}`).toEqual([]);
}

const rowWith = (text: string) => page.locator('tbody tr', { hasText: text });
const heading = (name: string) => page.getByRole('heading', { name, level: 2 });

async function signIn(username: string, password: string) {
  await page.goto(`${gw.url}/sign-in`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${gw.url}/`);
}

async function open(link: string, title: string) {
  await page.getByRole('link', { name: link, exact: true }).click();
  await expect.poll(async () => heading(title).isVisible(), POLL).toBe(true);
}

describe.skipIf(!hasChromium)('console admin and user pages in a browser', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    [webDir, up, hook] = await Promise.all([buildConsole(), startFakeOpenAI(), startReceiver('webhook')]);
    gw = await startGateway({ env: { WEB_DIR: webDir } });
    ({ context, userDataDir } = await launchBrowser());
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    user = new ApiClient(gw.url);
    userId = (await user.post('/api/auth/register', { username: USERNAME, password: PASSWORD })).body.user.id;
    await user.login(USERNAME, PASSWORD);
  }, 240_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await page?.screenshot({ path: join(tmpdir(), `console-admin-e2e-failure-${ctx.task.id}.png`), fullPage: true }).catch(() => undefined);
  });
  afterAll(async () => {
    await context?.close();
    await gw?.close();
    await up?.close();
    await hook?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('admin: adds a channel and a price, changes site settings and enables bank transfers', async () => {
    await signIn('admin', gw.adminPassword);
    await open('Channels', 'Channels');
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.fill('#ch-name', 'fake openai');
    await page.fill('#ch-url', up.url);
    await page.fill('#ch-key', 'sk-upstream-admin-e2e');
    await page.fill('#ch-models', `${MODEL}, ${SLOW_MODEL}`);
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await expect.poll(async () => rowWith('fake openai').isVisible(), POLL).toBe(true);

    await open('Models & prices', 'Models & prices');
    for (const model of [MODEL, SLOW_MODEL]) {
      await page.fill('#price-model', model);
      await page.fill('#price-input', '2');
      await page.fill('#price-output', '8');
      // The optional prices (empty: the input or output price) are sent too.
      if (model === SLOW_MODEL) {
        await page.fill('#price-cacheWrite', '2.5');
        await page.fill('#price-audioOutput', '80');
      }
      await page.getByRole('button', { name: 'Save' }).click();
      await expect.poll(async () => rowWith(model).isVisible(), POLL).toBe(true);
    }
    const priceRows = async () => (await gw.admin.get('/api/admin/prices')).body.items.map((p: any) => [p.model, p.input, p.output, p.cacheWrite, p.audioOutput, p.imageInput]);
    const saved = [
      [MODEL, '2', '8', null, null, null],
      [SLOW_MODEL, '2', '8', '2.5', '80', null],
    ];
    expect(await priceRows()).toEqual(saved);
    // Edit and save again unchanged: every optional price survives the round trip.
    await rowWith(SLOW_MODEL).getByRole('button', { name: 'Edit' }).click();
    await expect.poll(async () => page.inputValue('#price-audioOutput'), POLL).toBe('80');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => page.inputValue('#price-model'), POLL).toBe('');
    expect(await priceRows()).toEqual(saved);

    await open('Groups', 'Groups');
    await expect.poll(async () => rowWith('default').isVisible(), POLL).toBe(true);
    await expectAccessible('admin groups');

    await open('Site settings', 'Site settings');
    const general = page.getByTestId('general-settings');
    await general.locator('#set-site-name').fill('   ');
    await general.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => general.locator('.field', { has: page.locator('#set-site-name') }).locator('.field-error').textContent(), POLL).toBe('Required'); // validated inline
    await general.locator('#set-site-name').fill('Acme AI');
    await general.getByLabel('Allow webhooks to private addresses').check();
    await general.locator('#set-invoice-delay input, input#set-invoice-delay').first().fill('0');
    await general.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await gw.admin.get('/api/admin/settings')).body, POLL).toMatchObject({ siteName: 'Acme AI', allowPrivateWebhooks: true, invoiceDelayDays: 0 });
    await expect.poll(async () => page.locator('.brand-text').textContent(), POLL).toBe('Acme AI');
    // Toasts honour prefers-reduced-motion (the browser asks for it): they show and go without a fade,
    // so no axe run can catch one half-transparent. Read off Semi's own show and hide classes.
    const toastFades = await page.evaluate(() =>
      ['semi-toast-animation-show', 'semi-toast-animation-hide'].map((cls) => {
        const probe = document.body.appendChild(document.createElement('div'));
        probe.className = `semi-toast ${cls}`;
        const seconds = parseFloat(getComputedStyle(probe).animationDuration);
        probe.remove();
        return seconds;
      }),
    );
    expect(toastFades.every((s) => s < 0.001), `toast fade durations ${toastFades}`).toBe(true);

    // The transfer provider: required settings refused with the server's message, then saved.
    const transfer = page.getByTestId('provider-transfer');
    await transfer.getByRole('switch', { name: 'Enabled: Bank transfer' }).click();
    await transfer.getByRole('button', { name: 'Save: Bank transfer' }).click();
    await expect.poll(async () => transfer.getByRole('alert').first().isVisible(), POLL).toBe(true);
    await transfer.locator('#pp-transfer-bankName').fill('Acme Bank');
    await transfer.locator('#pp-transfer-accountName').fill('Acme AI Ltd.');
    await transfer.locator('#pp-transfer-accountNo').fill('6214 0000 1111');
    await transfer.getByRole('button', { name: 'Save: Bank transfer' }).click();
    await expect.poll(async () => (await gw.admin.get('/api/admin/payment-providers/transfer')).body, POLL).toMatchObject({ enabled: true, config: { bankName: 'Acme Bank', accountNo: '6214 0000 1111' } });
    await expectAccessible('admin site settings');
  });

  it('admin: generates a batch of codes, downloads the CSV once, disables the batch', async () => {
    await open('Redemption codes', 'Redemption codes');
    await page.fill('#codes-name', 'e2e batch');
    await page.fill('#codes-usd', '2');
    await page.locator('#codes-count').fill('3');
    await expectAccessible('admin redemption codes');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Generate and download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^redemption-codes-\d+\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toBe('code,batch_id,name,quota,usd,expires_at');
    expect(lines).toHaveLength(4);
    const codes = lines.slice(1).map((l) => l.split(',')[0]!);
    for (const l of lines.slice(1)) expect(l).toMatch(/^[0-9A-Z-]{20,},\d+,"e2e batch",1000000,2\.000000,$/);
    // The dialog shows the same codes, once.
    await expect.poll(async () => page.getByTestId('generated-codes').textContent(), POLL).toBe(codes.join('\n'));
    await expectAccessible('generated codes dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).first().click();

    // A code from the file works; the batch shows it used.
    expect((await user.post('/api/wallet/redeem', { code: codes[0] })).body.credited.quota).toBe(1_000_000);
    await page.reload();
    await expect.poll(async () => rowWith('e2e batch').textContent(), POLL).toContain('1 / 3');
    await page.getByRole('switch', { name: 'Enabled: e2e batch' }).click();
    await expect.poll(async () => (await user.post('/api/wallet/redeem', { code: codes[1] })).body.error?.code, POLL).toBe('code_disabled');
  });

  it('admin: confirms a bank transfer order the user created', async () => {
    const order = await user.post('/api/wallet/topup', { amount: '100', method: 'transfer' });
    expect(order.status).toBe(201);
    transferOrderNo = order.body.orderNo;
    const before = (await user.get('/api/wallet')).body.balance.quota;

    await open('Orders', 'Orders');
    await page.getByRole('textbox', { name: 'Order no., trade no. or username' }).fill(USERNAME);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(async () => page.locator('tbody tr').count(), POLL).toBe(1);
    expect(await rowWith(transferOrderNo).textContent()).toContain('Pending');
    await expectAccessible('admin orders');
    await page.getByRole('button', { name: `Confirm transfer: ${transferOrderNo}` }).click();
    await page.locator('.semi-popconfirm').getByRole('button', { name: 'Confirm transfer' }).click();
    await expect.poll(async () => rowWith(transferOrderNo).textContent(), POLL).toContain('Paid');
    expect(await rowWith(transferOrderNo).textContent()).toContain('confirmed by admin');
    // $100 and the $100 tier's bonus (+5 %).
    expect([order.body.amount.quota, order.body.bonus.quota]).toEqual([50_000_000, 2_500_000]);
    expect((await user.get('/api/wallet')).body.balance.quota).toBe(before + 52_500_000);
  });

  it('admin: issues the invoice the user requested for that top-up', async () => {
    const req = await user.post('/api/wallet/invoices', { orderNos: [transferOrderNo], type: 'standard', title: 'Bea Labs Ltd.', taxId: '91310000MA1FL8XQ30', email: 'finance@bea.example', lineItem: 'Information technology services' });
    expect(req.status, JSON.stringify(req.body)).toBe(201);

    await open('Invoices', 'Invoices');
    await expect.poll(async () => rowWith('Bea Labs Ltd.').isVisible(), POLL).toBe(true);
    await expectAccessible('admin invoices');
    await page.getByRole('button', { name: `Issue: #${req.body.id}` }).click();
    await page.fill('#invoice-url', 'not a link');
    await page.getByRole('dialog').getByRole('button', { name: 'Issue' }).click();
    await expect.poll(async () => page.getByRole('dialog').getByText('An http(s) link').isVisible(), POLL).toBe(true);
    await page.fill('#invoice-url', 'https://invoices.example.com/e/123.pdf');
    await expectAccessible('issue invoice dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Issue' }).click();
    // Issued invoices leave the pending queue.
    await expect.poll(async () => rowWith('Bea Labs Ltd.').count(), POLL).toBe(0);
    const mine = await user.get('/api/wallet/invoices');
    expect(mine.body.items[0]).toMatchObject({ status: 'issued', url: 'https://invoices.example.com/e/123.pdf' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gw.url}/sign-in`);
  });

  it('user: no admin page is shown, and the admin API answers 403', async () => {
    await signIn(USERNAME, PASSWORD);
    expect(await page.locator('.brand-text').textContent()).toBe('Acme AI');
    for (const name of ['Users', 'Orders', 'Invoices', 'Redemption codes', 'Site settings', 'Groups']) expect(await page.getByRole('link', { name, exact: true }).count(), name).toBe(0);
    for (const path of ['/admin/orders', '/admin/settings', '/admin/codes']) {
      await page.goto(`${gw.url}${path}`);
      await page.waitForURL(`${gw.url}/`);
    }
    for (const path of ['/api/admin/orders', '/api/admin/invoices', '/api/admin/redemption-codes', '/api/admin/settings', '/api/admin/groups', '/api/admin/payment-providers']) {
      const res = await page.request.get(`${gw.url}${path}`);
      expect(res.status(), path).toBe(403);
    }
    await expect.poll(async () => heading('Dashboard').isVisible(), POLL).toBe(true);
    await expectAccessible('dashboard');
  });

  it('user: sets a webhook alert, sees the server refuse a bad URL beside the field, and receives the test message', async () => {
    await open('Settings', 'Settings');
    const form = page.getByTestId('notification-settings');
    await form.getByLabel('Webhook', { exact: true }).check();
    await form.getByRole('button', { name: 'Save and send a test' }).click();
    await expect.poll(async () => form.locator('.field', { has: page.locator('#notify-webhook-url') }).locator('.field-error').textContent(), POLL).toBe('Required');
    await page.fill('#notify-webhook-url', 'ftp://example.com/hook');
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    // The server's own message, shown under the field it names.
    const fieldError = form.locator('.field', { has: page.locator('#notify-webhook-url') }).locator('.field-error');
    await expect.poll(async () => fieldError.textContent(), POLL).toMatch(/http/i);

    await page.fill('#notify-threshold', '2.5');
    await page.fill('#notify-webhook-url', `${hook.url}/moleapi-alerts`);
    await page.fill('#notify-webhook-secret', 'whsec-e2e');
    await expectAccessible('notification settings');
    await form.getByRole('button', { name: 'Save and send a test' }).click();
    const [req] = await hook.waitForRequests(1, 15_000);
    expect(req!.path).toBe('/moleapi-alerts');
    expect(JSON.parse(req!.rawBody)).toMatchObject({ type: 'test' });
    expect(req!.headers['x-webhook-signature']).toBe(createHmac('sha256', 'whsec-e2e').update(req!.rawBody).digest('hex'));
    expect((await user.get('/api/me/notifications')).body).toMatchObject({ method: 'webhook', thresholdQuota: 1_250_000, webhookUrl: `${hook.url}/moleapi-alerts`, webhookSecret: '********' });
    await expect.poll(async () => page.getByText('Test message sent').isVisible(), POLL).toBe(true);
  });

  it('user: the playground streams a reply from the upstream and the wallet is charged for it', async () => {
    const key = (await user.post('/api/keys', { name: 'playground key' })).body.key as string;
    const before = (await user.get('/api/wallet')).body.balance.quota;
    await open('Playground', 'Playground');
    await page.fill('#pg-key', 'not-a-key');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(async () => page.getByText('A key starts with sk-').isVisible(), POLL).toBe(true);
    await page.fill('#pg-key', key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    // The model list is what the key may call (GET /v1/models).
    await expect.poll(async () => page.locator('#pg-model option').allTextContents(), POLL).toEqual([MODEL, SLOW_MODEL]);
    await expectAccessible('playground');

    // A slow stream shows its words while it is still running (Stop is offered), and can be stopped.
    await page.selectOption('#pg-model', SLOW_MODEL);
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('Count slowly');
    await message.press('Enter');
    const reply = page.getByTestId('chat-assistant').last();
    await expect.poll(async () => (await reply.textContent())?.match(/tok/g)?.length ?? 0, POLL).toBeGreaterThanOrEqual(3);
    expect(await page.getByRole('button', { name: 'Stop' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(async () => page.getByRole('button', { name: 'Send' }).isVisible(), POLL).toBe(true);

    // A full reply: 10 prompt + 5 completion tokens at $2 / $8 per 1M = 10 + 20 points.
    await page.selectOption('#pg-model', MODEL);
    await page.locator('#pg-max').fill('5');
    await message.fill('Hello');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(async () => reply.textContent(), POLL).toContain('10 input + 5 output tokens');
    expect(await reply.textContent()).toContain('tok tok tok tok tok');

    // Billed like any call: two log rows for this key, the balance down by exactly their cost.
    await expect.poll(async () => (await user.get('/api/logs')).body.items.filter((r: any) => r.keyName === 'playground key').length, POLL).toBe(2);
    // The stopped stream is settled when the gateway sees the disconnect, which may be after the second
    // reply: the rows are found by model, not by order.
    const rows = (await user.get('/api/logs')).body.items.filter((r: any) => r.keyName === 'playground key');
    const full = rows.find((r: any) => r.model === MODEL);
    const stopped = rows.find((r: any) => r.model === SLOW_MODEL);
    expect([full.stream, stopped.stream]).toEqual([true, true]);
    expect(full.cost.quota).toBe(30);
    expect(stopped.cost.quota).toBeGreaterThan(0);
    const cost = full.cost.quota + stopped.cost.quota;
    const after = (await user.get('/api/wallet')).body.balance.quota;
    expect(after).toBe(before - cost);
    // The page shows the charged balance (reloaded: the stopped stream may settle after the page's last fetch).
    await page.reload();
    await expect.poll(async () => page.getByTestId('pg-balance').textContent(), POLL).toContain(`${after.toLocaleString('en-US')} points`);
  });

  it('user: the dashboard charts the spend by day, model and key', async () => {
    await open('Dashboard', 'Dashboard');
    await expect.poll(async () => page.getByTestId('dash-requests').textContent(), POLL).toBe('Requests (30 days)2');
    expect(await page.getByRole('list', { name: 'Spend by model' }).textContent()).toContain(MODEL);
    expect(await page.getByRole('list', { name: 'Spend by key' }).textContent()).toContain('playground key');
    expect(await page.getByRole('img', { name: /Spend by day/ }).count()).toBe(1);
    await expectAccessible('dashboard with usage');
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/', '/playground', '/settings']) {
      await page.goto(`${gw.url}${path}`);
      await page.waitForLoadState('networkidle');
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `page width of ${path} at 390 px`).toBeLessThanOrEqual(390);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('no page broke the console CSP along the way', () => {
    expect(cspViolations).toEqual([]);
  });
});
