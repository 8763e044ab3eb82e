// Anthropic Messages responses (and their usage and stop reasons) ⇄ the intermediate form.
import type { AnthropicContentBlock, AnthropicMessagesResponse, AnthropicStopReason, AnthropicUsage } from '../protocols/anthropic.ts';
import { unsupported } from './errors.ts';
import type { ChatResponse, Part, StopReason, Usage } from './ir.ts';
import { isObject, newId, obj, optStr, parseArguments, readCounts, str, asText } from './util.ts';

/** Anthropic's input_tokens excludes cache reads and writes; the common Usage counts every prompt token. */
export function decodeAnthropicUsage(u: Partial<AnthropicUsage> | null | undefined): Usage | undefined {
  if (!isObject(u)) return undefined;
  return readCounts((count) => {
    const cached = count(u.cache_read_input_tokens);
    const written = count(u.cache_creation_input_tokens);
    return { inputTokens: count(u.input_tokens) + cached + written, outputTokens: count(u.output_tokens), cachedInputTokens: cached, cacheWriteTokens: written, reasoningTokens: 0 };
  });
}

export function encodeAnthropicUsage(u: Usage): AnthropicUsage {
  return {
    input_tokens: Math.max(0, u.inputTokens - u.cachedInputTokens - u.cacheWriteTokens),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cachedInputTokens,
  };
}

export function decodeAnthropicStop(r: string | null | undefined): StopReason {
  switch (r) {
    case 'end_turn':
    case 'stop_sequence':
    case 'tool_use':
    case 'max_tokens':
    case 'refusal':
    case 'pause_turn':
      return r;
    case 'model_context_window_exceeded':
      return 'context_window';
    default:
      return 'other';
  }
}

export function encodeAnthropicStop(r: StopReason): AnthropicStopReason {
  switch (r) {
    case 'end_turn':
    case 'stop_sequence':
    case 'tool_use':
    case 'max_tokens':
    case 'refusal':
    case 'pause_turn':
      return r;
    case 'context_window':
      return 'max_tokens';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function decodeAnthropicResponse(body: AnthropicMessagesResponse): ChatResponse {
  if (!isObject(body) || !Array.isArray(body.content)) unsupported('content', 'the upstream answer has no content');
  const parts = body.content.flatMap((raw, i): Part[] => {
    const at = `content[${i}]`;
    const b = obj(raw, at);
    switch (b.type) {
      case 'text':
        return [{ type: 'text', text: str(b.text, `${at}.text`) }];
      case 'tool_use':
        return [{ type: 'tool_call', id: str(b.id, `${at}.id`), name: str(b.name, `${at}.name`), arguments: JSON.stringify(b.input ?? {}) }];
      case 'thinking': {
        const signature = optStr(b.signature, `${at}.signature`);
        return [{ type: 'thinking', text: str(b.thinking, `${at}.thinking`), ...(signature ? { signature } : {}) }];
      }
      case 'redacted_thinking':
        return [{ type: 'redacted_thinking', data: str(b.data, `${at}.data`) }];
      default:
        return unsupported(`${at}.type`, `the upstream answered with a '${asText(b.type)}' block, which has no equivalent in the caller's protocol`);
    }
  });
  const usage = decodeAnthropicUsage(body.usage);
  return {
    id: asText(body.id ?? newId('msg_')),
    model: asText(body.model ?? ''),
    parts,
    stopReason: decodeAnthropicStop(body.stop_reason),
    ...(typeof body.stop_sequence === 'string' ? { stopSequence: body.stop_sequence } : {}),
    ...(usage ? { usage } : {}),
  };
}

export function encodeAnthropicResponse(res: ChatResponse): AnthropicMessagesResponse {
  const content = res.parts.flatMap((p, i): AnthropicContentBlock[] => {
    switch (p.type) {
      case 'text':
        return p.text ? [{ type: 'text', text: p.text }] : [];
      case 'tool_call':
        return [{ type: 'tool_use', id: p.id, name: p.name, input: parseArguments(p.arguments, `tool_calls[${i}].function.arguments`) }];
      case 'thinking':
        return [{ type: 'thinking', thinking: p.text, signature: p.signature ?? '' }];
      case 'redacted_thinking':
        return [{ type: 'redacted_thinking', data: p.data }];
      default:
        return [];
    }
  });
  return {
    id: res.id,
    type: 'message',
    role: 'assistant',
    model: res.model,
    content,
    stop_reason: encodeAnthropicStop(res.stopReason),
    stop_sequence: res.stopSequence ?? null,
    usage: encodeAnthropicUsage(res.usage ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }),
  };
}
