// The provider table: one entry per channel `type`, from which the admin API's channel types are
// derived. Each entry (one module per type) says which wire protocol the upstream speaks, where its
// chat endpoint is and how it authenticates. Failover classification (5xx, 408, 429 retried; other
// 4xx passed to the caller) is the same for every provider so far: Anthropic's 529 overloaded is a 5xx.
import { anthropic } from './anthropic.ts';
import { azure } from './azure.ts';
import { gemini } from './gemini.ts';
import { openai } from './openai.ts';
import type { Provider } from './types.ts';
import { vertex } from './vertex.ts';

export { ANTHROPIC_VERSION } from './anthropic.ts';
export type { Provider, UpstreamTarget } from './types.ts';

export const PROVIDERS = { openai, anthropic, gemini, azure, vertex } as const satisfies Record<string, Provider>;

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
