// The provider table: one entry per channel `type`, from which the admin API's channel types are
// derived. Each entry says which wire protocol the upstream speaks, where its chat endpoint is and
// how it authenticates. Failover classification (5xx, 408, 429 retried; other 4xx passed to the
// caller) is the same for every provider so far: Anthropic's 529 overloaded is a 5xx.
import type { Protocol } from '../relay/translate/ir.ts';

export interface Provider {
  /** The protocol the upstream speaks: a caller of the same protocol gets its bytes passed through. */
  protocol: Protocol;
  /** Chat endpoint, after the base URL's path (a bare origin gets /v1). */
  chatPath: string;
  /** Headers for one upstream call, besides content-type and accept. */
  headers(apiKey: string): Record<string, string>;
  /** What the admin console shows as the base URL example. */
  defaultBaseUrl: string;
}

/** The Anthropic API version we speak (https://docs.anthropic.com/en/api/versioning). */
export const ANTHROPIC_VERSION = '2023-06-01';

const openai: Provider = {
  protocol: 'openai',
  chatPath: '/chat/completions',
  headers: (apiKey) => ({ 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, accept: 'application/json, text/event-stream' }),
  defaultBaseUrl: 'https://api.openai.com',
};

const anthropic: Provider = {
  protocol: 'anthropic',
  chatPath: '/messages',
  headers: (apiKey) => ({ 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION, accept: 'application/json, text/event-stream' }),
  defaultBaseUrl: 'https://api.anthropic.com',
};

export const PROVIDERS = { openai, anthropic } as const satisfies Record<string, Provider>;

export type ChannelType = keyof typeof PROVIDERS;
export const CHANNEL_TYPES = Object.keys(PROVIDERS) as ChannelType[];

/**
 * OpenAI-compatible vendors: channels of type `openai` with these base URLs. Listed so operators
 * can copy them; nothing else differs.
 */
export const OPENAI_COMPATIBLE_BASE_URLS: Record<string, string> = {
  deepseek: 'https://api.deepseek.com',
  groq: 'https://api.groq.com/openai/v1',
  mistral: 'https://api.mistral.ai/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  moonshot: 'https://api.moonshot.ai/v1',
  dashscope: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
  xai: 'https://api.x.ai/v1',
  siliconflow: 'https://api.siliconflow.cn/v1',
  ollama: 'http://127.0.0.1:11434/v1',
  vllm: 'http://127.0.0.1:8000/v1',
};
