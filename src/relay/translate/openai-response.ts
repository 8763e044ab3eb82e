// OpenAI chat completions responses (and their usage and finish reasons) ⇄ the intermediate form.
import type { OpenAIChatResponse, OpenAIFinishReason, OpenAIMessage, OpenAIUsage } from '../protocols/openai.ts';
import { unsupported } from './errors.ts';
import type { ChatResponse, Part, StopReason, Usage } from './ir.ts';
import { isObject, newId, nonZero, obj, optArr, optStr, readCounts, str, asText } from './util.ts';

export function decodeOpenAIUsage(u: OpenAIUsage | null | undefined): Usage | undefined {
  if (!isObject(u)) return undefined;
  return readCounts((count) => ({
    inputTokens: count(u.prompt_tokens),
    outputTokens: count(u.completion_tokens),
    cachedInputTokens: count(u.prompt_tokens_details?.cached_tokens),
    // Not OpenAI's own field; some compatible vendors report cache writes this way.
    cacheWriteTokens: count((u.prompt_tokens_details as { cache_write_tokens?: unknown } | null | undefined)?.cache_write_tokens),
    reasoningTokens: count(u.completion_tokens_details?.reasoning_tokens),
    ...nonZero({
      audioInputTokens: count(u.prompt_tokens_details?.audio_tokens),
      imageInputTokens: count(u.prompt_tokens_details?.image_tokens),
      audioOutputTokens: count(u.completion_tokens_details?.audio_tokens),
      imageOutputTokens: count(u.completion_tokens_details?.image_tokens),
    }),
  }));
}

export function encodeOpenAIUsage(u: Usage): OpenAIUsage {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens, ...(u.cacheWriteTokens ? { cache_write_tokens: u.cacheWriteTokens } : {}) },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}

export function decodeOpenAIFinish(f: string | null | undefined): StopReason {
  switch (f) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'other';
  }
}

export function encodeOpenAIFinish(r: StopReason): OpenAIFinishReason {
  switch (r) {
    case 'max_tokens':
    case 'context_window':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'content_filter':
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function decodeOpenAIResponse(body: OpenAIChatResponse): ChatResponse {
  if (!isObject(body) || !Array.isArray(body.choices) || body.choices.length === 0) unsupported('choices', 'the upstream answer has no choice');
  if (body.choices.length > 1) unsupported('choices', 'several choices cannot be translated');
  const choice = obj(body.choices[0], 'choices[0]') as Partial<OpenAIChatResponse['choices'][number]>;
  const m: Partial<OpenAIMessage> = isObject(choice.message) ? choice.message : {};
  const parts: Part[] = [];
  if (typeof m.reasoning_content === 'string' && m.reasoning_content) parts.push({ type: 'thinking', text: m.reasoning_content });
  if (typeof m.content === 'string' && m.content) parts.push({ type: 'text', text: m.content });
  const refused = typeof m.refusal === 'string' && m.refusal !== '';
  if (refused) parts.push({ type: 'text', text: m.refusal as string });
  optArr(m.tool_calls, 'choices[0].message.tool_calls').forEach((raw, k) => {
    const at = `choices[0].message.tool_calls[${k}]`;
    const tc = obj(raw, at);
    const f = obj(tc.function, `${at}.function`);
    parts.push({ type: 'tool_call', id: str(tc.id, `${at}.id`), name: str(f.name, `${at}.function.name`), arguments: optStr(f.arguments, `${at}.function.arguments`) ?? '' });
  });
  const usage = decodeOpenAIUsage(body.usage);
  return {
    id: asText(body.id ?? newId('chatcmpl-')),
    model: asText(body.model ?? ''),
    ...(typeof body.created === 'number' ? { created: body.created } : {}),
    parts,
    stopReason: refused ? 'refusal' : decodeOpenAIFinish(choice.finish_reason),
    ...(usage ? { usage } : {}),
  };
}

export function encodeOpenAIResponse(res: ChatResponse): OpenAIChatResponse {
  const text = res.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
  const reasoning = res.parts.flatMap((p) => (p.type === 'thinking' ? [p.text] : [])).join('');
  const calls = res.parts.flatMap((p) => (p.type === 'tool_call' ? [{ id: p.id, type: 'function' as const, function: { name: p.name, arguments: p.arguments } }] : []));
  const message: OpenAIChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: text || (calls.length ? null : ''),
    refusal: null,
    ...(reasoning ? { reasoning_content: reasoning } : {}),
    ...(calls.length ? { tool_calls: calls } : {}),
  };
  return {
    id: res.id,
    object: 'chat.completion',
    created: res.created ?? Math.floor(Date.now() / 1000),
    model: res.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: encodeOpenAIFinish(res.stopReason) }],
    ...(res.usage ? { usage: encodeOpenAIUsage(res.usage) } : {}),
  };
}
