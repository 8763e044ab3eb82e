// OpenAI chat completions wire types: what the translators read and write. Fields a translator does
// not know stay reachable through the index signatures, so a passthrough keeps them.

export type OpenAIRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export interface OpenAITextPart {
  type: 'text';
  text: string;
  /** Not OpenAI's: an extension some clients send for Anthropic prompt caching; carried to Anthropic. */
  cache_control?: { type: 'ephemeral'; ttl?: string };
}
export interface OpenAIImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export type OpenAIContentPart = OpenAITextPart | OpenAIImagePart | { type: string; [k: string]: unknown };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIMessage {
  role: OpenAIRole;
  content?: string | OpenAIContentPart[] | null;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
  refusal?: string | null;
  /** Not OpenAI's: DeepSeek/vLLM convention for reasoning text. */
  reasoning_content?: string | null;
  [k: string]: unknown;
}

export interface OpenAIFunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

export type OpenAIToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | { type: 'function'; function: { name: string } }
  | { type: string; [k: string]: unknown };

export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  tools?: Array<OpenAIFunctionTool | { type: string; [k: string]: unknown }>;
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean | null; description?: string } };
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  user?: string;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  logit_bias?: Record<string, number> | null;
  [k: string]: unknown;
}

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number; [k: string]: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number; [k: string]: unknown } | null;
  [k: string]: unknown;
}

export interface OpenAIChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: OpenAIMessage & { role: 'assistant'; content: string | null };
    logprobs: unknown;
    finish_reason: OpenAIFinishReason | null;
  }>;
  usage?: OpenAIUsage;
  system_fingerprint?: string | null;
  [k: string]: unknown;
}

export interface OpenAIToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      reasoning_content?: string | null;
      refusal?: string | null;
      tool_calls?: OpenAIToolCallDelta[];
    };
    logprobs?: unknown;
    finish_reason: OpenAIFinishReason | null;
  }>;
  usage?: OpenAIUsage | null;
  [k: string]: unknown;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
