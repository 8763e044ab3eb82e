// The gateway serves the console build: hashed assets immutable and precompressed by Accept-Encoding,
// app routes fall back to index.html with the console CSP, /api and /v1 keep their own answers.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let webDir: string;
const JS = 'console.log("the console");'.repeat(20);
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>';

beforeAll(async () => {
  webDir = mkdtempSync(join(tmpdir(), 'moleapi-web-'));
  mkdirSync(join(webDir, 'assets'));
  writeFileSync(join(webDir, 'index.html'), INDEX);
  writeFileSync(join(webDir, 'assets', 'app-abc123.js'), JS);
  writeFileSync(join(webDir, 'assets', 'app-abc123.js.gz'), gzipSync(JS));
  writeFileSync(join(webDir, 'assets', 'app-abc123.js.br'), brotliCompressSync(JS));
  writeFileSync(join(webDir, 'secret.txt.bak'), 'outside');
  gw = await startGateway({ env: { WEB_DIR: webDir } });
});
afterAll(async () => {
  await gw?.close();
  rmSync(webDir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(gw.url + path, { headers });

describe('console static files', () => {
  it('sends brotli, gzip or identity by Accept-Encoding, cached immutably', async () => {
    // undici's fetch decodes transparently, so the raw encoding is read from the header and the
    // decoded body must still be the original file.
    const br = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(br.status).toBe(200);
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(br.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(br.headers.get('vary')).toBe('Accept-Encoding');
    expect(await br.text()).toBe(JS);

    const gz = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip, br;q=0' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toBe(JS);

    const plain = await get('/assets/app-abc123.js', { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(JS);
  });

  it('answers app routes with index.html (not cached, console CSP); a missing asset is 404', async () => {
    for (const path of ['/', '/keys', '/admin/users?x=1', '/wallet/', '/%E0%A4%A']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(await res.text()).toBe(INDEX);
    }
    const head = await fetch(`${gw.url}/keys`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
    const missing = await get('/assets/app-old999.js');
    expect(missing.status).toBe(404);
  });

  it('never serves files outside the build folder', async () => {
    const res = await get('/..%2fsecret.txt.bak');
    expect(await res.text()).not.toBe('outside');
    const res2 = await get('/assets/..%2f..%2fetc%2fpasswd');
    expect(res2.status).toBe(404);
  });

  it('leaves /api and /v1 to their own handlers', async () => {
    const api = await get('/api/nope');
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: { message: 'Unknown route GET /api/nope.', code: 'not_found' } });
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const status = await get('/api/status');
    expect((await status.json()).ok).toBe(true);
    const v1 = await get('/v1/models');
    expect(v1.status).toBe(401);
    expect((await v1.json()).error.code).toBe('invalid_api_key');
  });
});
