// Upstream channel keys are sealed at rest (AES-256-GCM) and still reach the upstream intact.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

const UPSTREAM_KEY = 'sk-upstream-very-secret-0123456789';
const KEY_A = 'first-secret-key-for-sealing-0001';
const KEY_B = 'other-secret-key-for-sealing-0002';
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

const storedKey = async (gw: TestGateway, id: number) =>
  String((await gw.gateway.db.get<{ api_key: string }>('SELECT api_key FROM channels WHERE id = ?', [id]))!.api_key);

async function call(gw: TestGateway, key: string, model: string) {
  const sdk = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  return sdk.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
}

/** A gateway with one priced channel for `model` and a funded user's key. */
async function withChannel(env: Record<string, string | undefined>, model: string) {
  const gw = await startGateway({ env });
  const id = await addChannel(gw, { baseUrl: fake.url, models: [model], apiKey: UPSTREAM_KEY });
  await setPrice(gw, model, { input: '1', output: '1' });
  const { key } = await createUserWithKey(gw, { balance: 100_000 });
  return { gw, id, key };
}

const restart = (gw: TestGateway, env: Record<string, string | undefined>) =>
  startGateway({ databaseUrl: gw.databaseUrl, adminPassword: gw.adminPassword, env });

describe('channel keys at rest', () => {
  it('are stored sealed, never in plain text, and the upstream receives the real key', async () => {
    const { gw, id, key } = await withChannel({ MOLEAPI_SECRET_KEY: KEY_A }, 'sealed-delay0');
    try {
      const stored = await storedKey(gw, id);
      expect(stored).toMatch(/^enc:v1:/);
      expect(stored).not.toContain(UPSTREAM_KEY);
      expect(stored).not.toContain(UPSTREAM_KEY.slice(10));

      await call(gw, key, 'sealed-delay0');
      expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      expect((await gw.admin.get(`/api/admin/channels/${id}`)).body).toMatchObject({ apiKey: 'sk-…6789', problem: null });
    } finally {
      await gw.close();
    }
  });

  it('a key stored in plain text by an older version is sealed at the next start and keeps working', async () => {
    const { gw: first, id, key } = await withChannel({ MOLEAPI_SECRET_KEY: KEY_A }, 'legacy-delay0');
    await first.gateway.db.run('UPDATE channels SET api_key = ? WHERE id = ?', [UPSTREAM_KEY, id]);
    await first.close({ keepDatabase: true });

    const second = await restart(first, { MOLEAPI_SECRET_KEY: KEY_A });
    try {
      expect(await storedKey(second, id)).toMatch(/^enc:v1:/);
      await call(second, key, 'legacy-delay0');
      expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    } finally {
      await second.close();
    }
  });

  it('with another secret key the channel is reported unusable and not routed to; entering the key again repairs it', async () => {
    const { gw: first, id, key } = await withChannel({ MOLEAPI_SECRET_KEY: KEY_A }, 'rekey-delay0');
    await first.close({ keepDatabase: true });

    const wrong = await restart(first, { MOLEAPI_SECRET_KEY: KEY_B });
    const before = await storedKey(wrong, id);
    try {
      const view = (await wrong.admin.get(`/api/admin/channels/${id}`)).body;
      expect(view.apiKey).toBeNull();
      expect(view.problem).toMatch(/cannot be decrypted/);
      await expect(call(wrong, key, 'rekey-delay0')).rejects.toMatchObject({ status: 503 });
      // Changing another field leaves the stored key untouched (the right secret can still open it).
      expect((await wrong.admin.patch(`/api/admin/channels/${id}`, { weight: 5 })).status).toBe(200);
      expect(await storedKey(wrong, id)).toBe(before);
    } finally {
      await wrong.close({ keepDatabase: true });
    }

    const right = await restart(first, { MOLEAPI_SECRET_KEY: KEY_A });
    try {
      await call(right, key, 'rekey-delay0');
    } finally {
      await right.close({ keepDatabase: true });
    }

    const repaired = await restart(first, { MOLEAPI_SECRET_KEY: KEY_B });
    try {
      expect((await repaired.admin.patch(`/api/admin/channels/${id}`, { apiKey: UPSTREAM_KEY })).body.problem).toBeNull();
      await call(repaired, key, 'rekey-delay0');
      expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    } finally {
      await repaired.close();
    }
  });

  it('without MOLEAPI_SECRET_KEY a random key is created in DATA_DIR/secret.key (0600) and reused after a restart', async () => {
    const { gw: first, id, key } = await withChannel({ MOLEAPI_SECRET_KEY: undefined }, 'filekey-delay0');
    const file = join(first.gateway.config.DATA_DIR!, 'secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await first.close({ keepDatabase: true });

    const second = await restart(first, { MOLEAPI_SECRET_KEY: undefined });
    try {
      expect((await second.admin.get(`/api/admin/channels/${id}`)).body.problem).toBeNull();
      await call(second, key, 'filekey-delay0');
    } finally {
      await second.close();
    }
  });
});
