import type { ServerResponse } from 'node:http';

export type OpenAIErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'insufficient_quota' | 'rate_limit_error' | 'upstream_error' | 'server_error';

/** A refusal the relay answers in the caller's protocol (OpenAI's error shape for now). */
export class RelayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: OpenAIErrorType = 'invalid_request_error',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function openAIErrorBody(err: RelayError) {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

export function sendError(res: ServerResponse, err: RelayError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, openAIErrorBody(err), headers);
}
