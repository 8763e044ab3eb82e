import { errors, type Dispatcher } from 'undici';
import { upstreamUrl, type Channel } from '../channels/registry.ts';
import type { UpstreamPools } from './pools.ts';
import { RelayError } from './respond.ts';

export interface UpstreamAttemptOptions {
  pools: UpstreamPools;
  path: string;
  maxAttempts: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  signal: AbortSignal;
  body: (channel: Channel) => Buffer | string;
}

export interface UpstreamSuccess {
  channel: Channel;
  response: Dispatcher.ResponseData;
  attempts: number;
}

/** An upstream answer we pass to the caller as is (a 4xx the provider gave: the caller's input is wrong). */
export interface UpstreamRefusal {
  channel: Channel;
  status: number;
  contentType: string;
  body: Buffer;
}

const isTimeout = (err: unknown) =>
  err instanceof errors.HeadersTimeoutError || err instanceof errors.ConnectTimeoutError || (err as any)?.code === 'UND_ERR_HEADERS_TIMEOUT';

/**
 * Tries channels in order until one answers. 5xx, 429, timeouts and connection failures before the first
 * byte move on to the next channel; other 4xx are the caller's problem and are passed through.
 */
export async function callUpstream(channels: Channel[], o: UpstreamAttemptOptions): Promise<UpstreamSuccess | UpstreamRefusal> {
  let lastStatus = 0;
  let lastTimeout = false;
  let attempts = 0;
  for (const channel of channels.slice(0, o.maxAttempts)) {
    attempts++;
    const url = upstreamUrl(channel.baseUrl, o.path);
    try {
      const response = await o.pools.get(url.origin).request({
        path: url.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${channel.apiKey}`, accept: 'application/json, text/event-stream' },
        body: o.body(channel),
        signal: o.signal,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
      });
      const status = response.statusCode;
      if (status < 400) return { channel, response, attempts };
      if (status >= 500 || status === 429 || status === 408) {
        lastStatus = status;
        lastTimeout = status === 408;
        await response.body.dump().catch(() => undefined);
        continue;
      }
      const body = Buffer.from(await response.body.arrayBuffer());
      return { channel, status, contentType: String(response.headers['content-type'] ?? 'application/json'), body };
    } catch (err) {
      if (o.signal.aborted) throw err;
      lastStatus = 0;
      lastTimeout = isTimeout(err);
    }
  }
  if (attempts === 0) throw new RelayError(503, 'no_available_channel', 'No enabled upstream channel serves this model right now.', 'upstream_error');
  if (lastTimeout) {
    throw new RelayError(504, 'upstream_timeout', `The upstream provider did not answer in time (${attempts} attempt(s)). Try again later.`, 'upstream_error');
  }
  const what = lastStatus ? `answered HTTP ${lastStatus}` : 'could not be reached';
  throw new RelayError(502, 'upstream_error', `The upstream provider ${what} after ${attempts} attempt(s). Try again later.`, 'upstream_error');
}

export function isRefusal(r: UpstreamSuccess | UpstreamRefusal): r is UpstreamRefusal {
  return !('response' in r);
}
