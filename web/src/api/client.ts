// The typed API client: paths and shapes come from schema.d.ts (generated from /api/openapi.json).
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Money = Schemas['Money'];

export const api = createClient<paths>({ baseUrl: '' });

/** A refused request, with the server's own message and code. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For invalid_request: each problem with the field it names (for inline form errors). */
    readonly issues: { path: (string | number)[]; message: string }[] = [],
    /** The whole `error` object of the answer (issues, and any extra field such as `eligibleAt`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The server's message for one field (its first path element), if it named that field. */
  fieldError(field: string): string | undefined {
    return this.issues.find((i) => i.path[0] === field)?.message;
  }
}

/** The server's message for a field of a refused form, for showing beside that field. */
export const fieldError = (error: unknown, field: string) => (error instanceof ApiFailure ? error.fieldError(field) : undefined);

type Unauthorized = () => void;
let onUnauthorized: Unauthorized = () => {};
/** What to do when a request answers 401 (the app returns to sign-in, then back). */
export function setUnauthorizedHandler(fn: Unauthorized): void {
  onUnauthorized = fn;
}

/** The data of an openapi-fetch call, or an ApiFailure carrying the server's message. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw new ApiFailure(0, 'network_error', err instanceof Error ? err.message : String(err));
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const body = error as { error?: { message?: string; code?: string; issues?: ApiFailure['issues'] } & Record<string, unknown> } | undefined;
  const failure = new ApiFailure(
    response.status,
    body?.error?.code ?? 'http_error',
    body?.error?.message ?? `${response.status} ${response.statusText}`,
    body?.error?.issues ?? [],
    body?.error ?? {},
  );
  // A wrong password at sign-in is also 401: that one is shown, not redirected.
  if (response.status === 401 && !new URL(response.url).pathname.startsWith('/api/auth/')) onUnauthorized();
  throw failure;
}
