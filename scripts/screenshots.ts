// `npm run screenshots`: a fresh gateway (temporary SQLite database) seeded with realistic data — a
// few users, keys, channels, prices and a week of usage logs made by real calls through the relay to
// a fake upstream — then a screenshot of every console page at 1280 px and 390 px (the wallet also in
// Chinese) into screenshots/. Also prints the gzipped JavaScript the sign-in page loads first.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { ApiClient } from '../test/helpers/api.ts';
import { buildConsole, hasChromium, launchBrowser } from '../test/helpers/console.ts';
import { startGateway, type TestGateway } from '../test/helpers/gateway.ts';
import { walletSeeder } from './screenshots-wallet.ts';

const OUT = fileURLToPath(new URL('../screenshots/', import.meta.url));
const PASSWORD = 'demo-password-1';
const MODELS: Record<string, { input: string; output: string; perRequest?: string }> = {
  'gpt-4o-mini': { input: '0.15', output: '0.6' },
  'gpt-4o': { input: '2.5', output: '10' },
  'deepseek-chat': { input: '0.27', output: '1.1' },
  'qwen-max': { input: '1.6', output: '6.4' },
  'dall-e-3': { input: '0', output: '0', perRequest: '0.04' },
};

async function seed(gw: TestGateway, upstreamUrl: string, beforeTraffic: () => Promise<void>) {
  const must = async (p: Promise<{ status: number; body: any }>, what: string) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await must(gw.admin.put('/api/admin/groups/vip', { multiplier: '0.8', description: 'Volume discount', selectable: true }), 'group');
  await must(gw.admin.post('/api/admin/channels', { name: 'OpenAI primary', type: 'openai', baseUrl: upstreamUrl, apiKey: 'sk-upstream-demo-1', models: ['gpt-4o-mini', 'gpt-4o', 'dall-e-3'], groups: ['default', 'vip'], priority: 10 }), 'channel');
  await must(gw.admin.post('/api/admin/channels', { name: 'DeepSeek', type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: 'sk-upstream-demo-2', models: ['deepseek-chat', 'qwen-max'], groups: ['default', 'vip'] }), 'channel');
  await must(gw.admin.post('/api/admin/channels', { name: 'OpenAI backup', type: 'openai', baseUrl: upstreamUrl, apiKey: 'sk-upstream-demo-3', models: ['gpt-4o-mini', 'gpt-4o'], weight: 3 }), 'channel');
  for (const [model, p] of Object.entries(MODELS)) await must(gw.admin.put(`/api/admin/prices/${model}`, p.perRequest ? { perRequest: p.perRequest } : p), 'price');

  const users = [
    { username: 'alice', email: 'alice@example.com', keys: ['web app', 'batch jobs', 'local dev'], topUp: 20 },
    { username: 'bob', email: 'bob@example.com', keys: ['ci'], topUp: 5 },
    { username: 'carol', email: null, keys: ['notebook'], topUp: 0 },
  ];
  const keys: { user: string; key: string }[] = [];
  for (const u of users) {
    const c = new ApiClient(gw.url);
    const reg = await must(c.post('/api/auth/register', { username: u.username, password: PASSWORD, ...(u.email ? { email: u.email } : {}) }), 'register');
    await c.login(u.username, PASSWORD);
    if (u.topUp) await must(gw.admin.post(`/api/admin/users/${reg.user.id}/adjust`, { quota: u.topUp * 500_000, reason: 'bank transfer received' }), 'adjust');
    for (const [i, name] of u.keys.entries()) {
      const body = i === 1 ? { name, quotaLimit: 5 * 500_000, expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } : { name };
      keys.push({ user: u.username, key: (await must(c.post('/api/keys', body), 'key')).key });
    }
  }
  await beforeTraffic();
  // A week of traffic: real calls, then their log rows spread over the last seven days.
  const names = Object.keys(MODELS);
  for (let i = 0; i < 70; i++) {
    const k = keys[i % keys.length]!;
    const client = new OpenAI({ apiKey: k.key, baseURL: `${gw.url}/v1` });
    const model = names[(i * 7) % names.length]!;
    const request = { model, messages: [{ role: 'user' as const, content: `Question ${i}: summarise our week.` }], max_tokens: 8 };
    if (i % 4 === 0) {
      const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
      for await (const _ of stream) void _;
    } else {
      await client.chat.completions.create(request);
    }
  }
  const now = Date.now();
  // 70 calls, one every 2.4 h back from now: a week, newest last; each usage ledger entry takes its call's time.
  await gw.gateway.db.run(`UPDATE usage_logs SET created_at = ? - ((SELECT MAX(id) FROM usage_logs) - id) * 8640000 - (id * 7919 % 3600) * 1000`, [now]);
  await gw.gateway.db.run(`UPDATE ledger_entries SET created_at = (SELECT u.created_at FROM usage_logs u WHERE 'req:' || u.request_id = ledger_entries.reference) WHERE kind = 'usage' AND EXISTS (SELECT 1 FROM usage_logs u WHERE 'req:' || u.request_id = ledger_entries.reference)`);
  await gw.gateway.db.run(`UPDATE ledger_entries SET created_at = ? - 7 * 86400000 WHERE kind IN ('trial', 'adjustment')`, [now]);
}

/**
 * What the dashboard, playground and admin pages show (kept apart from the wallet seeding above):
 * top-up orders (paid through the sandbox, a confirmed and a pending bank transfer), a batch of
 * redemption codes with one redeemed, an invoice request for the confirmed transfer, a few failed
 * calls for the dashboard's error list, and alice's notification settings.
 */
async function seedAdminPages(gw: TestGateway) {
  const must = async (p: Promise<{ status: number; body: any }>, what: string) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await must(gw.admin.put('/api/admin/payment-providers/sandbox', { enabled: true }), 'sandbox provider');
  await must(gw.admin.put('/api/admin/payment-providers/transfer', { enabled: true, bankName: 'China Merchants Bank, Shanghai Branch', accountName: 'Mole Technology Co., Ltd.', accountNo: '6214 8301 2345 6789' }), 'transfer provider');
  await must(gw.admin.patch('/api/admin/settings', { invoiceDelayDays: 0, allowPrivateWebhooks: true }), 'settings');
  const alice = new ApiClient(gw.url);
  await alice.login('alice', PASSWORD);
  const bob = new ApiClient(gw.url);
  await bob.login('bob', PASSWORD);
  await must(alice.post('/api/wallet/topup', { amount: '20', method: 'sandbox' }), 'sandbox top-up');
  await must(bob.post('/api/wallet/topup', { amount: '10', method: 'sandbox' }), 'sandbox top-up');
  const transfer = await must(alice.post('/api/wallet/topup', { amount: '100', method: 'transfer' }), 'transfer top-up');
  await must(gw.admin.post(`/api/admin/orders/${transfer.orderNo}/confirm`, { note: 'received on the company account' }), 'confirm');
  await must(bob.post('/api/wallet/topup', { amount: '50', method: 'transfer' }), 'pending transfer');
  await must(
    alice.post('/api/wallet/invoices', { orderNos: [transfer.orderNo], type: 'standard', title: 'Alice Analytics Ltd.', taxId: '91310000MA1FL8XQ30', email: 'finance@alice.example', lineItem: 'Information technology services' }),
    'invoice',
  );
  // The invoice above was requested at once; the pages show the usual 7-day rule.
  await must(gw.admin.patch('/api/admin/settings', { invoiceDelayDays: 7 }), 'settings');
  const codes = await must(gw.admin.post('/api/admin/redemption-codes', { name: 'Launch week', usd: '5', count: 20, expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() }), 'codes');
  const carol = new ApiClient(gw.url);
  await carol.login('carol', PASSWORD);
  await must(carol.post('/api/wallet/redeem', { code: codes.codes[0] }), 'redeem');
  await must(gw.admin.post('/api/admin/redemption-codes', { name: 'Support credits', usd: '1', count: 5 }), 'codes');
  await must(gw.admin.put('/api/admin/groups/enterprise', { multiplier: '0.7', description: 'Contract customers', selectable: false }), 'group');
  await must(alice.put('/api/me/notifications', { method: 'webhook', thresholdQuota: 2_500_000, webhookUrl: 'http://127.0.0.1:9/hooks/moleapi', webhookSecret: 'demo-secret' }), 'notifications');
  // Failed calls for the dashboard's error list: an upstream that refuses, logged with its status.
  const failing = await startFailingUpstream();
  const ch = await must(gw.admin.post('/api/admin/channels', { name: 'Flaky provider', type: 'openai', baseUrl: failing.url, apiKey: 'sk-upstream-demo-4', models: ['o1-preview'] }), 'channel');
  await must(gw.admin.put('/api/admin/prices/o1-preview', { input: '15', output: '60' }), 'price');
  const key = (await must(alice.post('/api/keys', { name: 'experiments' }), 'key')).key as string;
  const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'o1-preview', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 }).catch(() => undefined);
  await must(gw.admin.patch(`/api/admin/channels/${ch.id}`, { enabled: false }), 'disable channel');
  await failing.close();
}

/** An upstream that answers every call with 500 (the relay logs each as a failed request). */
async function startFailingUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'The upstream is overloaded, try again later.', type: 'server_error' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The pages a user and an admin have besides the wallet, with the state worth showing on each. */
async function shootUserPages(page: Page, base: string, device: string) {
  for (const p of ['dashboard', 'keys', 'logs', 'pricing', 'settings']) await shoot(page, `${base}/${p === 'dashboard' ? '' : p}`, `${p}-${device}.png`);
  await page.goto(`${base}/keys`);
  await page.getByRole('button', { name: 'Add Token' }).click();
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(OUT, `keys-add-${device}.png`) });
  // The playground with a streamed answer: a fresh key pasted, one question asked.
  const key = await page.evaluate(async () => {
    const res = await fetch('/api/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `playground ${Date.now()}` }) });
    return ((await res.json()) as { key: string }).key;
  });
  await page.goto(`${base}/playground`);
  await page.fill('#pg-key', key);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
  await page.selectOption('#pg-model', 'gpt-4o-mini');
  await page.getByRole('textbox', { name: 'Message' }).fill('Write a haiku about prepaid API wallets.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText(/input \+ .* output tokens/).waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT, `playground-${device}.png`), fullPage: true });
  console.log(`  playground-${device}.png`);
}

async function shootAdminPages(page: Page, base: string, device: string) {
  for (const p of ['users', 'channels', 'prices', 'groups', 'codes', 'orders', 'invoices', 'settings']) await shoot(page, `${base}/admin/${p}`, `admin-${p}-${device}.png`);
}

async function shoot(page: Page, url: string, file: string) {
  await page.goto(url);
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300); // Semi's entrance transitions
  await page.screenshot({ path: join(OUT, file), fullPage: true });
  console.log(`  ${file}`);
}

async function signIn(page: Page, base: string, username: string, password: string) {
  await page.goto(`${base}/sign-in`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.getByRole('button', { name: /Sign in|登录/ }).click();
  await page.waitForURL(`${base}/`);
}

/** The gzipped size of the scripts a first visit to /sign-in loads (the precompressed .gz files). */
async function signInScriptBytes(page: Page, base: string, webDir: string): Promise<number> {
  const scripts = new Set<string>();
  page.on('response', (r) => {
    if (r.request().resourceType() === 'script') scripts.add(new URL(r.url()).pathname);
  });
  await page.goto(`${base}/sign-in`);
  await page.waitForLoadState('networkidle');
  let total = 0;
  for (const path of scripts) total += statSync(join(webDir, `${path}.gz`)).size;
  return total;
}

async function main() {
  if (!hasChromium) throw new Error('Chromium is required: apt-get install -y chromium (and fonts-noto-cjk for the Chinese pages)');
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const webDir = await buildConsole();
  const up = await startFakeOpenAI();
  const gw = await startGateway({ env: { WEB_DIR: webDir } });
  const closers: (() => Promise<void>)[] = [];
  try {
    const wallet = await walletSeeder(gw, 'alice', PASSWORD);
    closers.push(() => wallet.lantu.close());
    await seed(gw, up.url, wallet.beforeTraffic);
    const pendingOrderNo = await wallet.afterTraffic();
    await seedAdminPages(gw);
    // The wallet is shot with the top-up being paid open (its QR code, amount and countdown).
    const walletPath = `wallet?order=${pendingOrderNo}`;
    for (const [device, viewport] of [
      ['desktop', { width: 1280, height: 860 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { context, userDataDir } = await launchBrowser(viewport);
      const page = await context.newPage();
      if (device === 'desktop') {
        const bytes = await signInScriptBytes(page, gw.url, webDir);
        console.log(`sign-in first load: ${(bytes / 1024).toFixed(1)} KB of gzipped JavaScript`);
      }
      await shoot(page, `${gw.url}/sign-in`, `sign-in-${device}.png`);
      await shoot(page, `${gw.url}/register?invite=FRIEND42`, `register-${device}.png`);
      await signIn(page, gw.url, 'alice', PASSWORD);
      await shoot(page, `${gw.url}/${walletPath}`, `wallet-${device}.png`);
      await shootUserPages(page, gw.url, device);
      await page.evaluate(() => localStorage.setItem('moleapi.lang', 'zh'));
      await shoot(page, `${gw.url}/${walletPath}`, `wallet-${device}-zh.png`);
      await page.evaluate(() => localStorage.setItem('moleapi.lang', 'en'));
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, gw.url, 'admin', gw.adminPassword);
      await shootAdminPages(page, gw.url, device);
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  } finally {
    for (const close of closers) await close();
    await gw.close();
    await up.close();
    rmSync(webDir, { recursive: true, force: true });
  }
  console.log(`screenshots in ${OUT}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
