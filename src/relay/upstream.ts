import { errors, type Dispatcher } from 'undici';
import type { ChannelHealth } from '../channels/health.ts';
import type { KeyRotation } from '../channels/key-rotation.ts';
import { providerOf, upstreamUrl, type Channel } from '../channels/registry.ts';
import { upstreamMessage } from './chat-translated.ts';
import type { UpstreamPools } from './pools.ts';
import { readLimited } from './read-limited.ts';
import { RelayError } from './respond.ts';

export interface UpstreamAttemptOptions {
  pools: UpstreamPools;
  keys: KeyRotation;
  /** The endpoint path for a channel (after its base URL); undefined (or no function): its provider's chat path for `call`. */
  path?: (channel: Channel) => string | undefined;
  /** The caller's model (renamed per channel by its mapping) and streaming: Gemini, Vertex and Azure put them in the URL. */
  call?: { model: string; stream: boolean };
  maxAttempts: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Largest refusal (4xx) body read to pass on. */
  maxResponseBytes: number;
  signal: AbortSignal;
  body: (channel: Channel) => Buffer | string;
  /** Caller headers to pass to a channel besides its provider's own (Anthropic's anthropic-beta), or null. */
  headers?: (channel: Channel) => Record<string, string> | null;
  /** Where each attempt's outcome is recorded (failure windows, revoked keys, retry-after). */
  health?: ChannelHealth;
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
 * Tries channels in order until one answers, each at most once. 5xx, 408, 429, timeouts and connection
 * failures before the first byte move on to the next channel (at most maxAttempts calls); other 4xx are
 * the caller's problem and are passed through. A channel whose origin is at its connection limit is
 * skipped without a call. Each call uses the channel's next key (KeyRotation); a 401/403 is retried at
 * once with another of its keys while it has one the upstream has not rejected; when none is left the
 * channel's keys are revoked: it is auto-disabled (health) and the next channel is tried.
 */
export async function callUpstream(channels: Channel[], o: UpstreamAttemptOptions): Promise<UpstreamSuccess | UpstreamRefusal> {
  let lastStatus = 0;
  let lastTimeout = false;
  let attempts = 0;
  let busy = 0;
  for (const channel of channels) {
    if (attempts >= o.maxAttempts) break;
    const provider = providerOf(channel);
    const target = { model: channel.modelMapping[o.call?.model ?? ''] ?? o.call?.model ?? '', stream: o.call?.stream ?? false };
    const url = upstreamUrl(channel.baseUrl, o.path?.(channel) ?? provider.chatPath(channel, target), provider.bareOriginPrefix);
    // A key the upstream rejects (401/403) is retried on the same channel with its next key, if it has one.
    for (;;) {
      if (attempts >= o.maxAttempts) break;
      if (!o.pools.take(url.origin)) {
        busy++;
        break;
      }
      // The slot is held until the response body closes (read, dumped or destroyed), or the call fails.
      let given = false;
      const give = () => {
        if (!given) {
          given = true;
          o.pools.give(url.origin);
        }
      };
      attempts++;
      const key = o.keys.pick(channel);
      try {
        const own = await provider.headers(channel, key);
        const response = await o.pools.get(url.origin).request({
          path: url.path,
          method: 'POST',
          headers: withCallerHeaders(own, o.headers?.(channel)),
          body: o.body(channel),
          signal: o.signal,
          headersTimeout: o.headersTimeoutMs,
          bodyTimeout: o.bodyTimeoutMs,
        });
        response.body.once('close', give);
        if (response.body.destroyed) give();
        const status = response.statusCode;
        if (status < 400) {
          o.health?.success(channel);
          return { channel, response, attempts };
        }
        if (status >= 500 || status === 429 || status === 408) {
          lastStatus = status;
          lastTimeout = status === 408;
          if (status === 429) o.health?.rateLimited(channel, response.headers['retry-after']);
          else o.health?.failure(channel, `HTTP ${status}`);
          await response.body.dump().catch(() => undefined);
          break;
        }
        if ((status === 401 || status === 403) && o.keys.reject(channel, key)) {
          await response.body.dump().catch(() => undefined);
          continue;
        }
        const body = await readLimited(response.body, o.maxResponseBytes, response.headers['content-length']);
        if (status === 401 || status === 403) {
          lastStatus = status;
          lastTimeout = false;
          o.health?.revoked(channel, status, upstreamMessage(body));
          break;
        }
        o.health?.success(channel); // it answered: the caller's input was refused, not the channel
        return { channel, status, contentType: String(response.headers['content-type'] ?? 'application/json'), body };
      } catch (err) {
        give();
        if (o.signal.aborted || err instanceof RelayError) throw err;
        lastStatus = 0;
        lastTimeout = isTimeout(err);
        o.health?.failure(channel, lastTimeout ? 'timeout' : `connection failed: ${(err as Error).message}`);
        break;
      }
    }
  }
  if (attempts === 0 && busy > 0) {
    throw new RelayError(
      503,
      'upstream_busy',
      `Every channel serving this model is at its connection limit (${busy} skipped). Try again shortly.`,
      'upstream_error',
    );
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

function withCallerHeaders(own: Record<string, string>, caller: Record<string, string> | null | undefined): Record<string, string> {
  return caller ? { ...own, ...caller } : own;
}
