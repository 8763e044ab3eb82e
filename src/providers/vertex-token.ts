// Google service-account auth for Vertex AI: a JWT signed with the account's private key, exchanged
// at the token endpoint (OAuth 2.0 JWT bearer grant, RFC 7523) for an access token, cached until
// shortly before it expires. Concurrent calls share one exchange.
import { createHash, createPrivateKey, createSign } from 'node:crypto';
import { request } from 'undici';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const LIFETIME_S = 3600;
/** A token this close to its expiry is replaced before use. */
const MARGIN_MS = 60_000;
const TIMEOUT_MS = 10_000;

export interface ServiceAccount {
  client_email: string;
  private_key: string;
  token_uri?: string;
}

/** The service account in a channel key, or why it is not one. */
export function parseServiceAccount(key: string): ServiceAccount | string {
  let j: any;
  try {
    j = JSON.parse(key);
  } catch {
    return 'a vertex key is the service account JSON file downloaded from Google Cloud (it is not JSON)';
  }
  if (!j || typeof j !== 'object') return 'a vertex key is a service account JSON object';
  if (typeof j.client_email !== 'string' || !j.client_email) return 'the service account JSON has no client_email';
  if (typeof j.private_key !== 'string') return 'the service account JSON has no private_key';
  try {
    createPrivateKey(j.private_key);
  } catch {
    return 'the service account private_key is not a PEM private key';
  }
  if (j.token_uri !== undefined && typeof j.token_uri !== 'string') return 'the service account token_uri is not a string';
  return { client_email: j.client_email, private_key: j.private_key, ...(j.token_uri ? { token_uri: j.token_uri } : {}) };
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function signedAssertion(sa: ServiceAccount, audience: string, nowS = Math.floor(Date.now() / 1000)): string {
  const head = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iss: sa.client_email, scope: SCOPE, aud: audience, iat: nowS, exp: nowS + LIFETIME_S })}`;
  const signature = createSign('RSA-SHA256').update(head).sign(sa.private_key).toString('base64url');
  return `${head}.${signature}`;
}

const cache = new Map<string, { token: string; expiresAt: number } | Promise<string>>();

/** An access token for the service account (cached); throws when the token endpoint refuses or fails. */
export async function accessToken(sa: ServiceAccount, tokenUrl: string): Promise<string> {
  const k = createHash('sha256').update(`${tokenUrl}\0${sa.client_email}\0${sa.private_key}`).digest('base64url');
  const hit = cache.get(k);
  if (hit instanceof Promise) return hit;
  if (hit && hit.expiresAt - MARGIN_MS > Date.now()) return hit.token;
  const pending = exchange(sa, tokenUrl).then(
    (t) => {
      cache.set(k, t);
      return t.token;
    },
    (err) => {
      cache.delete(k);
      throw err;
    },
  );
  if (cache.size > 1000) cache.clear();
  cache.set(k, pending);
  return pending;
}

async function exchange(sa: ServiceAccount, tokenUrl: string): Promise<{ token: string; expiresAt: number }> {
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: signedAssertion(sa, tokenUrl) }).toString();
  const res = await request(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  const text = (await res.body.text()).slice(0, 2000);
  if (res.statusCode !== 200) throw new Error(`Google token endpoint answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  const j = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
  if (typeof j.access_token !== 'string' || !j.access_token) throw new Error('Google token endpoint sent no access_token');
  const ttl = Number.isSafeInteger(j.expires_in) && (j.expires_in as number) > 0 ? (j.expires_in as number) : LIFETIME_S;
  return { token: j.access_token, expiresAt: Date.now() + ttl * 1000 };
}
