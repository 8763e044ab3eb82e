// Browser rules of the management API: a foreign page cannot use an admin's cookie to change anything,
// state-changing bodies must be JSON, answers carry the security headers, and the session cookie is
// Secure behind a TLS-terminating proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { createUserWithKey, startGateway, type TestGateway } from './helpers/gateway.ts';

const TRUSTED = 'https://console.example.test';
let gw: TestGateway;
let adminCookie: string;
let victim: Awaited<ReturnType<typeof createUserWithKey>>;

beforeAll(async () => {
  gw = await startGateway({ env: { TRUSTED_ORIGINS: `${TRUSTED}, https://other.example.test/` } });
  const login = await fetch(`${gw.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: gw.adminPassword }),
  });
  adminCookie = login.headers.get('set-cookie')!.split(';')[0]!;
  victim = await createUserWithKey(gw);
});
afterAll(async () => {
  await gw?.close();
});

/** A request as a browser would send it: the admin's cookie attached, with the given headers and body. */
async function browser(method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(gw.url + path, { method, headers: { cookie: adminCookie, ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const balance = async () => (await victim.client.get('/api/wallet')).body.balance.quota as number;
const channelCount = async () => (await gw.admin.get('/api/admin/channels')).body.items.length as number;
const creditBody = JSON.stringify({ quota: 1_000_000_000, reason: 'csrf' });
const channelJson = { name: 'evil', type: 'openai', baseUrl: 'https://evil.example/v1', apiKey: 'sk-evil', models: ['gpt-4o'] };
const channelForm = new URLSearchParams({ name: 'evil', type: 'openai', baseUrl: 'https://evil.example/v1', apiKey: 'sk-evil', models: 'gpt-4o' }).toString();

describe('cross-origin state changes are refused', () => {
  it('a text/plain POST from a foreign Origin cannot credit a user', async () => {
    const before = await balance();
    for (const origin of ['https://evil.example', `http://127.0.0.1:1`, 'null']) {
      const res = await browser('POST', `/api/admin/users/${victim.userId}/adjust`, { origin, 'content-type': 'text/plain' }, creditBody);
      expect(res.status, origin).toBe(403);
      expect(res.body.error.code).toBe('forbidden_origin');
    }
    expect(await balance()).toBe(before);
  });

  it('a form POST from a foreign Origin cannot add a channel', async () => {
    const before = await channelCount();
    const res = await browser('POST', '/api/admin/channels', { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, channelForm);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden_origin');
    expect(await channelCount()).toBe(before);
  });

  it('Sec-Fetch-Site cross-site or same-site is refused even without Origin, and with a JSON body', async () => {
    const before = await balance();
    for (const site of ['cross-site', 'same-site']) {
      const res = await browser('POST', `/api/admin/users/${victim.userId}/adjust`, { 'sec-fetch-site': site, 'content-type': 'application/json' }, creditBody);
      expect(res.status, site).toBe(403);
    }
    expect(await balance()).toBe(before);
  });

  it('the gateway’s own origin, a trusted origin, and non-browser clients (no Origin) may', async () => {
    const before = await balance();
    const json = { 'content-type': 'application/json' };
    const own = await browser('POST', `/api/admin/users/${victim.userId}/adjust`, { ...json, origin: gw.url, 'sec-fetch-site': 'same-origin' }, JSON.stringify({ quota: 1, reason: 'own origin' }));
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    const trusted = await browser('POST', `/api/admin/users/${victim.userId}/adjust`, { ...json, origin: TRUSTED, 'sec-fetch-site': 'cross-site' }, JSON.stringify({ quota: 1, reason: 'trusted' }));
    expect(trusted.status).toBe(201);
    const script = await browser('POST', `/api/admin/users/${victim.userId}/adjust`, json, JSON.stringify({ quota: 1, reason: 'curl' }));
    expect(script.status).toBe(201);
    expect(await balance()).toBe(before + 3);
  });

  it('reads are not affected', async () => {
    const res = await browser('GET', '/api/admin/channels', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(res.status).toBe(200); // no CORS headers: the foreign page cannot read the answer
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('state-changing bodies must be JSON', () => {
  it('text/plain and forms without any Origin get 415 and change nothing', async () => {
    const before = await balance();
    const plain = await browser('POST', `/api/admin/users/${victim.userId}/adjust`, { 'content-type': 'text/plain' }, creditBody);
    expect(plain.status).toBe(415);
    expect(plain.body.error).toMatchObject({ code: 'unsupported_media_type', message: expect.stringContaining('application/json') });
    const channels = await channelCount();
    const form = await browser('POST', '/api/admin/channels', { 'content-type': 'application/x-www-form-urlencoded' }, channelForm);
    expect(form.status).toBe(415);
    const none = await fetch(`${gw.url}/api/admin/channels`, { method: 'POST', headers: { cookie: adminCookie }, body: new Blob([JSON.stringify(channelJson)]) });
    expect(none.status).toBe(415);
    expect(await balance()).toBe(before);
    expect(await channelCount()).toBe(channels);
  });

  it('application/json with a charset, and bodiless POSTs, are accepted', async () => {
    const res = await browser('PUT', '/api/admin/groups/charset', { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ multiplier: '1' }));
    expect(res.status).toBe(200);
    const c = new ApiClient(gw.url);
    await c.login('admin', gw.adminPassword);
    expect((await c.request('POST', '/api/auth/logout')).status).toBe(200);
  });

  it('paths under /api/payment/notify/ are exempt from both rules (provider callbacks)', async () => {
    const res = await fetch(`${gw.url}/api/payment/notify/some-provider`, {
      method: 'POST',
      headers: { origin: 'https://pay.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'trade_status=TRADE_SUCCESS',
    });
    // It reaches the notify handler (an unknown provider: 404 in plain text) instead of being refused (403 / 415).
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('unknown payment provider');
  });
});

describe('security headers', () => {
  it('are on /api answers, errors included', async () => {
    for (const res of [await fetch(`${gw.url}/api/status`), await fetch(`${gw.url}/api/wallet`), await fetch(`${gw.url}/api/nope`)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });
});

describe('the session cookie is Secure over HTTPS', () => {
  async function loginCookie(g: TestGateway, headers: Record<string, string> = {}) {
    const res = await fetch(`${g.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ username: 'admin', password: g.adminPassword }),
    });
    expect(res.status).toBe(200);
    return res.headers.get('set-cookie')!;
  }

  it('behind a trusted proxy that says https; not when the proxy is not trusted', async () => {
    const proxied = await startGateway({ env: { TRUST_PROXY: 'true' } });
    try {
      expect(await loginCookie(proxied, { 'x-forwarded-proto': 'https' })).toMatch(/;\s*Secure/i);
      expect(await loginCookie(proxied, { 'x-forwarded-proto': 'http' })).not.toMatch(/Secure/i);
      // Behind the proxy the page's origin is https://<host>: accepted as the gateway's own.
      const host = new URL(proxied.url).host;
      const own = await fetch(`${proxied.url}/api/auth/logout`, { method: 'POST', headers: { origin: `https://${host}`, 'x-forwarded-proto': 'https' } });
      expect(own.status).toBe(200);
      const downgraded = await fetch(`${proxied.url}/api/auth/logout`, { method: 'POST', headers: { origin: `http://${host}`, 'x-forwarded-proto': 'https' } });
      expect(downgraded.status).toBe(403);
    } finally {
      await proxied.close();
    }
    expect(await loginCookie(gw, { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/i);
  });

  it('always with COOKIE_SECURE=true', async () => {
    const secure = await startGateway({ env: { COOKIE_SECURE: 'true' } });
    try {
      expect(await loginCookie(secure)).toMatch(/;\s*Secure/i);
    } finally {
      await secure.close();
    }
  });
});
