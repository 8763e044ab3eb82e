// What every provider (channel type) declares: the protocol its upstream speaks, where its chat
// endpoint is, how it authenticates, and which per-channel config fields it takes.
import type { Channel } from '../channels/registry.ts';
import type { Protocol } from '../relay/translate/ir.ts';
import type { ChannelConfig } from './config.ts';

/** One upstream chat call: the model after the channel's rename mapping, and whether it streams. */
export interface UpstreamTarget {
  model: string;
  stream: boolean;
}

export interface Provider {
  /** The protocol the upstream speaks: a caller of the same protocol gets its bytes passed through. */
  protocol: Protocol;
  /** What the admin console shows as the base URL example. */
  defaultBaseUrl: string;
  /** Path a base URL without one gets before the endpoint path (https://api.openai.com → /v1). */
  bareOriginPrefix: string;
  /** Chat endpoint path (after the base URL's path) for one call; may carry a query. */
  chatPath(ch: Channel, t: UpstreamTarget): string;
  /**
   * Path of one of OpenAI's other surfaces (`/embeddings`, `/completions`, …) for an OpenAI-wire type
   * that puts them elsewhere (Azure: under the deployment). Absent: the surface's own path.
   */
  surfacePath?(ch: Channel, model: string, path: string): string;
  /** Headers for one upstream call with one of the channel's keys (Vertex fetches an OAuth token). */
  headers(ch: Channel, key: string): Record<string, string> | Promise<Record<string, string>>;
  /** The channel's key is one secret over several lines (a service-account JSON), not one key per line. */
  wholeKey?: boolean;
  /** Type-specific config fields the channel may set (`headers` is allowed for every type). */
  configFields: readonly (keyof ChannelConfig)[];
  /** Fields it must set. */
  requiredConfig?: readonly (keyof ChannelConfig)[];
  /** Why a key is unusable for this type (checked when it is saved), or null. */
  checkKey?(key: string): string | null;
}

export const ACCEPT = 'application/json, text/event-stream';
