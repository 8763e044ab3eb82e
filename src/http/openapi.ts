import { z } from 'zod';
import { settingsSchema } from '../settings/store.ts';
import { channelCreate, channelPatch, groupSchema, priceSchema } from './routes/admin-catalog.ts';
import { adjustSchema, userPatchSchema } from './routes/admin-users.ts';
import { loginSchema, passwordSchema, registerSchema } from './routes/auth.ts';
import { keyCreateSchema, keyPatchSchema } from './routes/keys.ts';

type Auth = 'none' | 'session' | 'admin' | 'apiKey';
interface Op {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  status?: number;
}

const money = { type: 'object', properties: { quota: { type: 'integer' }, usd: { type: 'string' } }, required: ['quota', 'usd'] };
const anyJson = { type: 'object', additionalProperties: true };

const ops: Op[] = [
  { method: 'get', path: '/api/status', summary: 'Readiness probe', auth: 'none' },
  { method: 'post', path: '/api/auth/register', summary: 'Register; the new account receives the trial credit', auth: 'none', body: registerSchema, status: 201 },
  { method: 'post', path: '/api/auth/login', summary: 'Log in; sets the HttpOnly session cookie', auth: 'none', body: loginSchema },
  { method: 'post', path: '/api/auth/logout', summary: 'End the session', auth: 'session' },
  { method: 'get', path: '/api/me', summary: 'The logged-in user', auth: 'session' },
  { method: 'post', path: '/api/me/password', summary: 'Change the password; other sessions end', auth: 'session', body: passwordSchema },
  { method: 'post', path: '/api/keys', summary: 'Create an API key; the full key is returned only here', auth: 'session', body: keyCreateSchema, status: 201 },
  { method: 'get', path: '/api/keys', summary: 'List keys (masked) with usage', auth: 'session' },
  { method: 'get', path: '/api/keys/{id}', summary: 'One key (masked)', auth: 'session' },
  { method: 'patch', path: '/api/keys/{id}', summary: 'Change a key, including enabled', auth: 'session', body: keyPatchSchema },
  { method: 'delete', path: '/api/keys/{id}', summary: 'Delete a key', auth: 'session' },
  { method: 'get', path: '/api/wallet', summary: 'Balance, historical usage, request count, held and available amounts', auth: 'session' },
  { method: 'get', path: '/api/wallet/ledger', summary: 'Ledger entries, newest first (page, pageSize)', auth: 'session' },
  { method: 'get', path: '/api/logs', summary: 'Usage log rows (from, to, keyId, model, page, pageSize)', auth: 'session' },
  { method: 'get', path: '/api/pricing', summary: 'Every model with its price per group', auth: 'session' },
  { method: 'post', path: '/api/admin/channels', summary: 'Add an upstream channel', auth: 'admin', body: channelCreate, status: 201 },
  { method: 'get', path: '/api/admin/channels', summary: 'List channels (secrets masked)', auth: 'admin' },
  { method: 'get', path: '/api/admin/channels/{id}', summary: 'One channel', auth: 'admin' },
  { method: 'patch', path: '/api/admin/channels/{id}', summary: 'Change a channel', auth: 'admin', body: channelPatch },
  { method: 'delete', path: '/api/admin/channels/{id}', summary: 'Delete a channel', auth: 'admin' },
  { method: 'get', path: '/api/admin/prices', summary: 'List model prices', auth: 'admin' },
  { method: 'put', path: '/api/admin/prices/{model}', summary: 'Set a model price (USD per 1M tokens, or per request)', auth: 'admin', body: priceSchema },
  { method: 'delete', path: '/api/admin/prices/{model}', summary: 'Remove a model price', auth: 'admin' },
  { method: 'get', path: '/api/admin/groups', summary: 'List groups', auth: 'admin' },
  { method: 'put', path: '/api/admin/groups/{name}', summary: 'Create or change a group and its price multiplier', auth: 'admin', body: groupSchema },
  { method: 'get', path: '/api/admin/settings', summary: 'Operator settings', auth: 'admin' },
  { method: 'patch', path: '/api/admin/settings', summary: 'Change operator settings', auth: 'admin', body: settingsSchema.partial() },
  { method: 'get', path: '/api/admin/users', summary: 'Search users (search, page, pageSize)', auth: 'admin' },
  { method: 'patch', path: '/api/admin/users/{id}', summary: 'Enable or disable a user (disabling ends their sessions; their keys get 401)', auth: 'admin', body: userPatchSchema },
  { method: 'post', path: '/api/admin/users/{id}/adjust', summary: 'Adjust a balance (a ledger entry); Idempotency-Key header makes retries safe', auth: 'admin', body: adjustSchema, status: 201 },
  { method: 'post', path: '/v1/chat/completions', summary: 'OpenAI-compatible chat completions, streaming or not', auth: 'apiKey' },
  { method: 'get', path: '/v1/models', summary: 'Models this API key may use', auth: 'apiKey' },
];

function schemaOf(s: z.ZodType): unknown {
  try {
    return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
  } catch {
    return anyJson;
  }
}

let cached: unknown;

/** The OpenAPI 3.1 description of the management API and the relay. */
export function openApiDocument(): unknown {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    const security = op.auth === 'none' ? [] : op.auth === 'apiKey' ? [{ apiKey: [] }] : [{ session: [] }];
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary + (op.auth === 'admin' ? ' (admin or root)' : ''),
      security,
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body) } } } } : {}),
      responses: {
        [String(op.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: anyJson } } },
        '4XX': { description: 'Refused: {error: {message, code}}', content: { 'application/json': { schema: anyJson } } },
      },
    };
  }
  cached = {
    openapi: '3.1.0',
    info: { title: 'MoleAPI', version: '0.1.0', description: 'Money objects are {quota, usd}: 500,000 quota points = 1 USD.' },
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'moleapi_session' },
        apiKey: { type: 'http', scheme: 'bearer' },
      },
      schemas: { Money: money },
    },
    paths,
  };
  return cached;
}
