// `npm run screenshots`: a fresh gateway (temporary SQLite database) seeded with realistic data — a
// few users, keys, channels, prices and a week of usage logs made by real calls through the relay to
// a fake upstream — then a screenshot of every console page at 1280 px and 390 px (the wallet also in
// Chinese) into screenshots/. Also prints the gzipped JavaScript the sign-in page loads first.
import { mkdirSync, rmSync, statSync } from 'node:fs';
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
      for (const p of ['dashboard', 'keys', 'logs', 'pricing', 'wallet', 'settings']) await shoot(page, `${gw.url}/${p === 'dashboard' ? '' : p === 'wallet' ? walletPath : p}`, `${p}-${device}.png`);
      await page.goto(`${gw.url}/keys`);
      await page.getByRole('button', { name: 'Add Token' }).click();
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(OUT, `keys-add-${device}.png`) });
      await page.evaluate(() => localStorage.setItem('moleapi.lang', 'zh'));
      await shoot(page, `${gw.url}/${walletPath}`, `wallet-${device}-zh.png`);
      await page.evaluate(() => localStorage.setItem('moleapi.lang', 'en'));
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, gw.url, 'admin', gw.adminPassword);
      for (const p of ['users', 'channels', 'prices']) await shoot(page, `${gw.url}/admin/${p}`, `admin-${p}-${device}.png`);
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
