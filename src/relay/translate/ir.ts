// The common intermediate form every translator goes through. Each protocol has one decoder into it
// and one encoder out of it (request, response, stream), so the six (inbound × provider) pairs are
// compositions and a mapping rule lives in exactly one place.

export type Protocol = 'openai' | 'anthropic' | 'gemini';
/** Whose fields a request came in: a protocol, or OpenAI's Responses API (decoded only, never a provider). */
export type Caller = Protocol | 'responses';

/**
 * Token usage in one shape for every provider; the metering reads this.
 * `inputTokens` counts every prompt token, cached reads and cache writes included (OpenAI's and
 * Gemini's meaning; Anthropic's `input_tokens` excludes both). `outputTokens` includes reasoning.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Audio / image tokens inside inputTokens and outputTokens, where the provider reports them (priced apart when the model's price says so). */
  audioInputTokens?: number;
  imageInputTokens?: number;
  audioOutputTokens?: number;
  imageOutputTokens?: number;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });

export interface CacheHint {
  ttl?: string;
}

export type ImageSource = { kind: 'url'; url: string } | { kind: 'base64'; mediaType: string; data: string };

/** `at` is where the part sits in the caller's body (e.g. `messages[2].content[0]`), for error messages. */
interface Located {
  at?: string;
}

export type Part = Located &
  (
    | { type: 'text'; text: string; cache?: CacheHint }
    | { type: 'image'; source: ImageSource; cache?: CacheHint }
    /** `arguments` is JSON text (OpenAI keeps it as text; the others as objects). */
    | { type: 'tool_call'; id: string; name: string; arguments: string; signature?: string }
    | { type: 'tool_result'; toolCallId: string; name: string; content: Array<TextPart | ImagePart>; isError: boolean; cache?: CacheHint }
    | { type: 'thinking'; text: string; signature?: string }
    | { type: 'redacted_thinking'; data: string }
  );

export type TextPart = Extract<Part, { type: 'text' }>;
export type ImagePart = Extract<Part, { type: 'image' }>;
export type ToolCallPart = Extract<Part, { type: 'tool_call' }>;

export interface Message extends Located {
  role: 'user' | 'assistant';
  parts: Part[];
}

export interface ToolDef extends Located {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  strict?: boolean;
  cache?: CacheHint;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

export interface ChatRequest {
  /** The caller's protocol, so an encoder's error can name the caller's field. */
  source: Caller;
  model: string;
  system: TextPart[];
  messages: Message[];
  stream: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  tools?: ToolDef[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  /** Structured output: plain JSON, or JSON matching a schema. */
  responseFormat?: { type: 'json' } | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean };
  /** Reasoning: a token budget (Anthropic, Gemini) or an effort level (OpenAI). */
  thinking?: { enabled: boolean; budgetTokens?: number; effort?: 'minimal' | 'low' | 'medium' | 'high' };
  user?: string;
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'content_filter'
  | 'refusal'
  | 'pause_turn'
  | 'context_window'
  | 'malformed_tool_call'
  | 'other';

export interface ChatResponse {
  id: string;
  model: string;
  created?: number;
  parts: Part[];
  stopReason: StopReason;
  stopSequence?: string;
  usage?: Usage;
}

/** What a stream decoder yields and a stream encoder consumes: flat deltas, no block framing. */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; created?: number; usage?: Usage }
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  | { type: 'thinking_signature'; signature: string }
  | { type: 'redacted_thinking'; data: string }
  /** `index` is the tool call's position among this response's tool calls. */
  | { type: 'tool_call_start'; index: number; id: string; name: string; signature?: string }
  | { type: 'tool_call_delta'; index: number; arguments: string }
  | { type: 'finish'; stopReason: StopReason; stopSequence?: string }
  /** Cumulative usage so far (a later event replaces an earlier one); undefined: the provider sent counts that cannot be trusted. */
  | { type: 'usage'; usage: Usage | undefined }
  /** The upstream said the response is complete (OpenAI `[DONE]`, Anthropic `message_stop`, Gemini EOF). */
  | { type: 'done' }
  | { type: 'error'; message: string; errorType?: string };

export interface TranslateOptions {
  /** Output cap sent when the caller set none but the provider requires one (Anthropic). Default 4096. */
  defaultMaxTokens?: number;
  /** Whether the provider's model takes reasoning parameters (OpenAI `reasoning_effort`). Default true. */
  reasoning?: boolean;
}
