// The console in a real browser (Debian Chromium via playwright-core) against the real gateway with a
// fake OpenAI upstream: an admin sets up a channel and a price, a user registers with an invite code,
// sees the trial credit, creates a key, calls the gateway with it (official openai SDK), sees the log
// row and the wallet change; the admin adjusts that user; a lost session returns to sign-in and back.
// Every page visited is checked with axe (no serious or critical violation).
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { buildConsole, hasChromium, launchBrowser, seriousA11yViolations } from './helpers/console.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const MODEL = 'console-e2e-model';
const USERNAME = `alice_${Date.now().toString(36)}`;
const PASSWORD = 'alice-password-1';

let gw: TestGateway;
let up: FakeOpenAI;
let webDir: string;
let context: BrowserContext;
let userDataDir: string;
let page: Page;
let apiKey = '';
const cspViolations: string[] = [];
const POLL = { timeout: 10_000, interval: 100 };

async function expectAccessible(name: string) {
  expect(await seriousA11yViolations(page), `axe on ${name}`).toEqual([]);
}

/** A table row (Semi's cells are gridcells, so rows are found by their text). */
const rowWith = (text: string) => page.locator('tbody tr', { hasText: text });

async function signIn(username: string, password: string) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe.skipIf(!hasChromium)('console in a browser', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    [webDir, up] = await Promise.all([buildConsole(), startFakeOpenAI()]);
    gw = await startGateway({ env: { WEB_DIR: webDir } });
    ({ context, userDataDir } = await launchBrowser());
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    // The console must work under its own CSP (no inline script or style elements).
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 240_000);
  afterEach(async (ctx) => {
    // What the page showed when a step failed, for the reader of the failure.
    if (ctx.task.result?.state === 'fail') await page?.screenshot({ path: join(tmpdir(), `console-e2e-failure-${ctx.task.id}.png`) }).catch(() => undefined);
  });
  afterAll(async () => {
    await context?.close();
    await gw?.close();
    await up?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('admin: signs in, adds a channel and sets a price through the pages', async () => {
    await page.goto(`${gw.url}/admin/channels`);
    // Not signed in: sign-in first, then back to the page asked for.
    await page.waitForURL(/\/sign-in\?next=%2Fadmin%2Fchannels/);
    await expectAccessible('sign-in');
    await signIn('admin', gw.adminPassword);
    await page.waitForURL(`${gw.url}/admin/channels`);
    await expect.poll(async () => page.getByRole('heading', { name: 'Channels' }).isVisible(), POLL).toBe(true);
    await expectAccessible('admin channels');

    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.fill('#ch-name', 'fake openai');
    await page.fill('#ch-url', up.url);
    await page.fill('#ch-key', 'sk-upstream-e2e');
    await page.fill('#ch-models', `${MODEL}, other-model`);
    await expectAccessible('add channel dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await expect.poll(async () => rowWith('fake openai').isVisible(), POLL).toBe(true);
    const channels = await gw.admin.get('/api/admin/channels');
    expect(channels.body.items.map((c: any) => [c.name, c.models])).toEqual([['fake openai', [MODEL, 'other-model']]]);

    await page.getByRole('link', { name: 'Models & prices' }).click();
    await page.fill('#price-model', MODEL);
    await page.fill('#price-input', '2');
    await page.fill('#price-output', '8');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => rowWith(MODEL).isVisible(), POLL).toBe(true);
    await expectAccessible('admin prices');
    const prices = await gw.admin.get('/api/admin/prices');
    expect(prices.body.items).toEqual([expect.objectContaining({ model: MODEL, input: '2', output: '8', billing: 'usage' })]);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gw.url}/sign-in`);
    expect((await page.request.get(`${gw.url}/api/me`)).status()).toBe(401);
  });

  it('user: registers with an invite code, sees the trial credit, creates and copies a key, calls the gateway, sees the log row and the wallet change', async () => {
    // A wrong invite code is refused with the server's own message.
    await page.goto(`${gw.url}/register?invite=NOPE-NOPE`);
    expect(await page.inputValue('#invite')).toBe('NOPE-NOPE');
    await page.fill('#username', USERNAME);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(async () => page.getByText('That invite code does not exist.').isVisible(), POLL).toBe(true);

    const admin = await gw.gateway.db.get<{ aff_code: string }>('SELECT aff_code FROM users WHERE username = ?', ['admin']);
    await page.goto(`${gw.url}/register?invite=${admin!.aff_code}`);
    expect(await page.inputValue('#invite')).toBe(admin!.aff_code);
    await expectAccessible('register');
    await page.fill('#username', USERNAME);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();

    // Straight to the wallet, with the trial credit.
    await page.waitForURL(`${gw.url}/wallet`);
    const trial = page.getByTestId('wallet-trial');
    await expect.poll(async () => trial.textContent(), POLL).toContain('$0.50');
    expect(await trial.textContent()).toContain('250,000 points');
    await expect.poll(async () => page.getByTestId('wallet-balance').textContent(), POLL).toContain('250,000 points');
    await expectAccessible('wallet');

    await page.getByRole('link', { name: 'KEY Management' }).click();
    await page.getByRole('button', { name: 'Add Token' }).click();
    await page.fill('#key-name', 'my project');
    await page.getByRole('dialog').getByText('Limit in USD').first().click();
    await page.fill('#key-amount', '1.5');
    await expectAccessible('add token dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const shown = page.getByTestId('new-key');
    await shown.waitFor();
    apiKey = (await shown.textContent())!.trim();
    expect(apiKey).toMatch(/^sk-[A-Za-z0-9]{48}$/);
    expect(await page.getByText('you will not see it again').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Copy' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(apiKey);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).first().click();
    await expect.poll(async () => rowWith('my project').isVisible(), POLL).toBe(true);
    expect(await rowWith('my project').textContent()).toContain('750,000 points'); // the $1.50 limit
    await expectAccessible('keys');

    // The key works against the gateway: 10 prompt + 5 completion tokens at $2 / $8 per 1M = 10 + 20 points.
    const client = new OpenAI({ apiKey, baseURL: `${gw.url}/v1` });
    const answer = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 5 });
    expect(answer.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });

    await page.getByRole('link', { name: 'Usage logs' }).click();
    const row = rowWith(MODEL);
    await expect.poll(async () => row.count(), POLL).toBe(1);
    const rowText = await row.textContent();
    expect(rowText).toContain('my project');
    expect(rowText).toContain('10 / 5');
    expect(rowText).toContain('30 points');
    await expectAccessible('usage logs');

    await page.getByRole('link', { name: 'Wallet' }).click();
    await expect.poll(async () => page.getByTestId('wallet-balance').textContent(), POLL).toContain('249,970 points');
    expect(await page.getByTestId('wallet-used').textContent()).toContain('30 points');
    expect(await page.getByTestId('wallet-requests').textContent()).toBe('Requests1');

    for (const [link, heading] of [['Dashboard', 'Dashboard'], ['Pricing', 'Pricing'], ['Settings', 'Settings']] as const) {
      await page.getByRole('link', { name: link }).click();
      await expect.poll(async () => page.getByRole('heading', { name: heading, level: 2 }).isVisible(), POLL).toBe(true);
      await page.waitForLoadState('networkidle');
      await expectAccessible(link);
    }
    // A normal user has no admin links, and an admin URL leads back to the dashboard.
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await page.goto(`${gw.url}/admin/users`);
    await page.waitForURL(`${gw.url}/`);
  });

  it('switches to Chinese (remembered) and fits a 390 px phone without sideways scrolling', async () => {
    await page.getByRole('link', { name: 'Wallet' }).click();
    await page.getByRole('button', { name: /中文/ }).click();
    await expect.poll(async () => page.getByRole('heading', { name: '钱包', level: 2 }).isVisible(), POLL).toBe(true);
    expect(await page.getByTestId('wallet-balance').textContent()).toContain('249,970 点');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await page.reload();
    await expect.poll(async () => page.getByRole('link', { name: '令牌管理' }).isVisible(), POLL).toBe(true);
    await expectAccessible('wallet (zh)');

    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/wallet', '/keys', '/logs', '/']) {
      await page.goto(`${gw.url}${path}`);
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, `page width of ${path} at 390 px`).toBeLessThanOrEqual(390);
    }
    await page.getByRole('button', { name: 'English' }).click();
    await page.setViewportSize({ width: 1280, height: 860 });
    await expect.poll(async () => page.getByRole('link', { name: 'KEY Management' }).isVisible(), POLL).toBe(true);
  });

  it('a 401 (session gone) returns to sign-in and then to the page the user was on', async () => {
    await page.getByRole('link', { name: 'Wallet' }).click();
    await expect.poll(async () => page.getByTestId('wallet-balance').textContent(), POLL).toContain('points');
    await page.waitForLoadState('networkidle');
    await context.clearCookies();
    // Opened by address, not by the sidebar: with the cookie gone, any request the wallet page still
    // makes may send the console to sign-in first (with next=/wallet), and the link would vanish.
    await page.goto(`${gw.url}/keys`);
    await page.waitForURL(/\/sign-in\?next=%2Fkeys&expired=1/);
    await expect.poll(async () => page.getByText('Your session ended').isVisible(), POLL).toBe(true);
    await signIn(USERNAME, PASSWORD);
    await page.waitForURL(`${gw.url}/keys`);
    await expect.poll(async () => rowWith('my project').isVisible(), POLL).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gw.url}/sign-in`);
  });

  it('admin: finds the user, adjusts the balance with a reason; the wallet shows it', async () => {
    await page.goto(`${gw.url}/sign-in`);
    await signIn('admin', gw.adminPassword);
    await page.waitForURL(`${gw.url}/`);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('textbox', { name: 'Search by username or email' }).fill(USERNAME);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(async () => page.locator('tbody tr').count(), POLL).toBe(1);
    await expectAccessible('admin users');
    await page.getByRole('button', { name: `Adjust balance: ${USERNAME}` }).click();
    await page.fill('#adjust-amount', '1');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => page.getByText('Say why').isVisible(), POLL).toBe(true); // the reason is required
    await page.fill('#adjust-reason', 'support credit');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => rowWith(USERNAME).textContent(), POLL).toContain('749,970 points');

    const users = await gw.admin.get(`/api/admin/users?search=${USERNAME}`);
    expect(users.body.items[0].balance.quota).toBe(749_970);
    const entry = await gw.gateway.db.get<{ note: string; amount: number }>("SELECT note, amount FROM ledger_entries WHERE kind = 'adjustment' AND user_id = ?", [users.body.items[0].id]);
    expect(entry!.note).toMatch(/^support credit/);
    expect(Number(entry!.amount)).toBe(500_000);
  });

  it('no page broke the console CSP along the way', () => {
    expect(cspViolations).toEqual([]);
  });
});
