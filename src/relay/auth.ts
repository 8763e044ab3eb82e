import type { IncomingMessage } from 'node:http';
import type { KeyAuth, KeyCache } from '../accounts/key-cache.ts';
import { ALLOW_ALL, clientIp } from '../lib/ip.ts';
import { RelayError } from './respond.ts';

/** Finds the caller's key in any of the header styles the supported SDKs send. */
export function extractKey(req: IncomingMessage, query: string): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const h = req.headers['x-api-key'] ?? req.headers['x-goog-api-key'];
  if (typeof h === 'string' && h) return h.trim();
  return query ? (new URLSearchParams(query).get('key') ?? undefined) : undefined;
}

const unauthorized = (message: string) => new RelayError(401, 'invalid_api_key', message, 'authentication_error');

/** Resolves and checks the key: 401 for missing / unknown / disabled / expired, 403 for a foreign IP. */
export async function authorize(req: IncomingMessage, query: string, keys: KeyCache, trustProxy: boolean): Promise<KeyAuth> {
  const raw = extractKey(req, query);
  if (!raw) throw unauthorized('No API key provided. Send it as "Authorization: Bearer sk-...".');
  const auth = await keys.lookup(raw);
  if (!auth) throw unauthorized('Incorrect API key provided. Check the key in the console under Keys.');
  if (!auth.key.enabled) throw unauthorized(`API key "${auth.key.name}" is disabled. Enable it in the console or use another key.`);
  if (auth.key.expiresAt !== null && auth.key.expiresAt <= Date.now()) {
    throw unauthorized(`API key "${auth.key.name}" expired at ${new Date(auth.key.expiresAt).toISOString()}. Create a new key or extend its expiry.`);
  }
  if (!auth.userEnabled) throw unauthorized('The account that owns this API key is disabled.');
  if (auth.allowIp !== ALLOW_ALL) {
    const ip = clientIp(req, trustProxy);
    if (!auth.allowIp(ip)) {
      throw new RelayError(403, 'ip_not_allowed', `Your IP ${ip || '(unknown)'} is not in this key's IP allow-list. Add it in the key's settings.`, 'permission_error');
    }
  }
  return auth;
}
