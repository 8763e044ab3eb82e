// One minimal call to a channel (its first model, one output token), for the admin "test channel"
// action and the health probes. It bills nobody and is not counted in the failure window. A network
// failure is reported as 502 (504 for a timeout), never as a success.
import { errors } from 'undici';
import type { Config } from '../config.ts';
import type { UpstreamPools } from '../relay/pools.ts';
import { readLimited } from '../relay/read-limited.ts';
import { translatorFor } from '../relay/translate/index.ts';
import { upstreamMessage } from '../relay/chat-translated.ts';
import { keysOf } from './key-rotation.ts';
import { providerOf, upstreamUrl, type Channel } from './registry.ts';

export interface ChannelTest {
  /** Milliseconds until the upstream's answer was read (or the call failed). */
  latency: number;
  /** The upstream's HTTP status; 502 when it could not be reached, 504 when it did not answer in time. */
  status: number;
  /** The upstream's error message (or the network error), when the call did not succeed. */
  error?: string;
}

const PROBE_ANSWER_BYTES = 64 * 1024;

const probeModel = (ch: Channel) => ch.modelMapping[ch.models[0]!] ?? ch.models[0]!;

function probeBody(ch: Channel): string {
  const model = probeModel(ch);
  const openai = { model, messages: [{ role: 'user' as const, content: 'ping' }], max_tokens: 1 };
  const protocol = providerOf(ch).protocol;
  if (protocol === 'openai') return JSON.stringify(openai);
  const body = translatorFor('openai', protocol)!.request(openai as never, {}, { defaultMaxTokens: 1 }).body;
  // A Gemini-wire upstream takes the model in the URL, not in the body.
  return JSON.stringify(protocol === 'gemini' ? body : { ...body, model });
}

export async function testChannel(ch: Channel, pools: UpstreamPools, config: Pick<Config, 'UPSTREAM_TIMEOUT_MS'>): Promise<ChannelTest> {
  const provider = providerOf(ch);
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  if (ch.problem) return { latency: 0, status: 502, error: ch.problem };
  try {
    const url = upstreamUrl(ch.baseUrl, provider.chatPath(ch, { model: probeModel(ch), stream: false }), provider.bareOriginPrefix);
    const res = await pools.get(url.origin).request({
      path: url.path,
      method: 'POST',
      // The first key: a probe tells whether the channel answers, not which of its keys still work.
      headers: await provider.headers(ch, keysOf(ch)[0] ?? ''),
      body: probeBody(ch),
      headersTimeout: config.UPSTREAM_TIMEOUT_MS,
      bodyTimeout: config.UPSTREAM_TIMEOUT_MS,
    });
    const body = await readLimited(res.body, PROBE_ANSWER_BYTES, res.headers['content-length']);
    if (res.statusCode < 400) return { latency: latency(), status: res.statusCode };
    return { latency: latency(), status: res.statusCode, error: upstreamMessage(body) };
  } catch (err) {
    const timeout = err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError;
    const why = (err as Error).message || String(err);
    return { latency: latency(), status: timeout ? 504 : 502, error: timeout ? `the upstream did not answer in time (${why})` : `the upstream could not be reached (${why})` };
  }
}
