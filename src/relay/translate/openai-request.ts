// OpenAI chat completions requests ⇄ the intermediate form.
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage, OpenAIToolChoice } from '../protocols/openai.ts';
import { unsupported } from './errors.ts';
import { fieldOf } from './fields.ts';
import type { ChatRequest, ImagePart, Message, Part, TextPart, ToolChoice, ToolDef, TranslateOptions } from './ir.ts';
import { dataUrl, imageFromUrl, isObject } from './util.ts';

const EFFORTS = { minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' } as const;

function textOf(content: OpenAIMessage['content'], at: string): TextPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content, at }];
  return content.map((p, j) => {
    if (p.type !== 'text' && p.type !== 'refusal') unsupported(`${at}[${j}].type`, `only text parts are allowed here, not '${p.type}'`);
    return textPart(p, `${at}[${j}]`);
  });
}

function textPart(p: OpenAIContentPart, at: string): TextPart {
  const text = (p as { text?: unknown; refusal?: unknown }).text ?? (p as { refusal?: unknown }).refusal;
  if (typeof text !== 'string') unsupported(`${at}.text`, 'must be a string');
  const cc = (p as { cache_control?: { ttl?: string } }).cache_control;
  return { type: 'text', text: text as string, at, ...(cc ? { cache: cc.ttl ? { ttl: cc.ttl } : {} } : {}) };
}

function userParts(content: OpenAIMessage['content'], at: string): Array<TextPart | ImagePart> {
  if (content == null) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content, at }];
  if (!Array.isArray(content)) unsupported(at, 'must be a string or an array of content parts');
  return content.map((p, j): TextPart | ImagePart => {
    const pat = `${at}[${j}]`;
    if (p.type === 'text') return textPart(p, pat);
    if (p.type === 'image_url') {
      const url = (p as { image_url?: { url?: unknown } }).image_url?.url;
      if (typeof url !== 'string') unsupported(`${pat}.image_url.url`, 'must be a string');
      return { type: 'image', source: imageFromUrl(url as string, `${pat}.image_url.url`), at: pat };
    }
    return unsupported(`${pat}.type`, `content part '${p.type}' has no equivalent at this provider`);
  });
}

function decodeToolChoice(c: OpenAIToolChoice): ToolChoice {
  if (c === 'auto' || c === 'none' || c === 'required') return { type: c };
  if (isObject(c) && c.type === 'function' && isObject(c.function) && typeof c.function.name === 'string') return { type: 'tool', name: c.function.name };
  return unsupported('tool_choice', 'only auto, none, required or a function can be translated');
}

/** Rejects settings that change the answer and that no other provider understands. */
function rejectUntranslatable(body: OpenAIChatRequest): void {
  if (body.n != null && body.n !== 1) unsupported('n', 'several choices per request can only be served by an OpenAI channel');
  if (body.logprobs === true || body.top_logprobs != null) unsupported('logprobs', 'log probabilities can only be served by an OpenAI channel');
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) unsupported('logit_bias', 'has no equivalent at this provider');
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) unsupported('audio', 'audio output has no equivalent at this provider');
  if (body.prediction != null) unsupported('prediction', 'predicted outputs have no equivalent at this provider');
  if (body.web_search_options != null) unsupported('web_search_options', 'web search has no equivalent at this provider');
  if (body.functions != null || body.function_call != null) unsupported('functions', 'the deprecated functions API is not translated; use tools');
}

export function decodeOpenAIRequest(body: OpenAIChatRequest): ChatRequest {
  if (!isObject(body) || !Array.isArray(body.messages)) unsupported('messages', 'must be an array');
  rejectUntranslatable(body);
  const system: TextPart[] = [];
  const messages: Message[] = [];
  const toolNames = new Map<string, string>();
  body.messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isObject(m)) unsupported(at, 'must be an object');
    if (m.role === 'system' || m.role === 'developer') {
      if (messages.length > 0) unsupported(`${at}.role`, 'a system message after the conversation started cannot be placed at this provider (its system prompt comes first)');
      system.push(...textOf(m.content, `${at}.content`));
      return;
    }
    if (m.role === 'user') {
      messages.push({ role: 'user', parts: userParts(m.content, `${at}.content`), at });
      return;
    }
    if (m.role === 'assistant') {
      if (m.function_call != null) unsupported(`${at}.function_call`, 'the deprecated functions API is not translated; use tool_calls');
      const parts: Part[] = textOf(m.content, `${at}.content`);
      if (typeof m.refusal === 'string' && m.refusal) parts.push({ type: 'text', text: m.refusal, at: `${at}.refusal` });
      (m.tool_calls ?? []).forEach((tc, k) => {
        const tat = `${at}.tool_calls[${k}]`;
        if (tc.type !== 'function' || !isObject(tc.function)) unsupported(`${tat}.type`, 'only function tool calls can be translated');
        toolNames.set(tc.id, tc.function.name);
        parts.push({ type: 'tool_call', id: tc.id, name: tc.function.name, arguments: tc.function.arguments ?? '', at: tat });
      });
      messages.push({ role: 'assistant', parts, at });
      return;
    }
    if (m.role === 'tool') {
      const name = typeof m.tool_call_id === 'string' ? toolNames.get(m.tool_call_id) : undefined;
      if (name === undefined) unsupported(`${at}.tool_call_id`, 'names no tool call of an earlier assistant message');
      const content = textOf(m.content, `${at}.content`);
      messages.push({ role: 'user', parts: [{ type: 'tool_result', toolCallId: m.tool_call_id!, name: name!, content, isError: false, at }], at });
      return;
    }
    unsupported(`${at}.role`, `role '${String(m.role)}' cannot be translated`);
  });

  const req: ChatRequest = { source: 'openai', model: String(body.model ?? ''), system, messages, stream: body.stream === true };
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (max != null) req.maxOutputTokens = max;
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.topP = body.top_p;
  if (body.stop != null) req.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.presence_penalty != null && body.presence_penalty !== 0) req.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null && body.frequency_penalty !== 0) req.frequencyPenalty = body.frequency_penalty;
  if (body.seed != null) req.seed = body.seed;
  if (typeof body.user === 'string') req.user = body.user;
  if (body.tools != null) {
    req.tools = body.tools.map((t, i): ToolDef => {
      if (t.type !== 'function' || !isObject(t.function)) return unsupported(`tools[${i}].type`, `tool type '${String(t.type)}' has no equivalent at this provider`);
      const f = t.function as { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
      return {
        name: f.name,
        ...(f.description != null ? { description: f.description } : {}),
        parameters: f.parameters ?? { type: 'object', properties: {} },
        ...(f.strict != null ? { strict: f.strict } : {}),
        at: `tools[${i}]`,
      };
    });
  }
  if (body.tool_choice != null) req.toolChoice = decodeToolChoice(body.tool_choice);
  if (body.parallel_tool_calls != null) req.parallelToolCalls = body.parallel_tool_calls;
  const rf = body.response_format;
  if (rf != null && rf.type !== 'text') {
    if (rf.type === 'json_object') req.responseFormat = { type: 'json' };
    else if (rf.type === 'json_schema' && isObject(rf.json_schema)) {
      req.responseFormat = { type: 'json_schema', name: rf.json_schema.name, schema: rf.json_schema.schema ?? {}, ...(rf.json_schema.strict != null ? { strict: rf.json_schema.strict } : {}) };
    } else unsupported('response_format.type', `'${String((rf as { type: unknown }).type)}' cannot be translated`);
  }
  const effort = body.reasoning_effort;
  if (effort === 'none') req.thinking = { enabled: false };
  else if (effort != null) {
    const e = EFFORTS[effort as keyof typeof EFFORTS];
    if (!e) unsupported('reasoning_effort', `'${String(effort)}' is not a known effort`);
    req.thinking = { enabled: true, effort: e };
  }
  return req;
}

// ---- intermediate → OpenAI (a caller of another protocol served by an OpenAI channel) ----

const budgetToEffort = (budget: number): 'low' | 'medium' | 'high' => (budget <= 2048 ? 'low' : budget <= 12_000 ? 'medium' : 'high');

function contentParts(parts: Array<TextPart | ImagePart>): string | OpenAIContentPart[] {
  if (parts.length === 1 && parts[0]!.type === 'text') return parts[0]!.text;
  return parts.map((p) =>
    p.type === 'text'
      ? { type: 'text' as const, text: p.text }
      : { type: 'image_url' as const, image_url: { url: p.source.kind === 'url' ? p.source.url : dataUrl(p.source.mediaType, p.source.data) } },
  );
}

function encodeMessage(m: Message, out: OpenAIMessage[]): void {
  if (m.role === 'assistant') {
    const text = m.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
    const calls = m.parts.flatMap((p) => (p.type === 'tool_call' ? [{ id: p.id, type: 'function' as const, function: { name: p.name, arguments: p.arguments || '{}' } }] : []));
    for (const p of m.parts) if (p.type === 'image') unsupported(p.at ?? 'messages', 'an assistant image has no equivalent in OpenAI chat');
    if (!text && calls.length === 0) return; // e.g. a turn that held only thinking: OpenAI has no place for it
    out.push({ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
    return;
  }
  // OpenAI wants each tool result as its own `tool` message, right after the assistant's calls.
  const rest: Array<TextPart | ImagePart> = [];
  for (const p of m.parts) {
    if (p.type === 'tool_result') {
      for (const c of p.content) if (c.type === 'image') unsupported(c.at ?? p.at ?? 'messages', 'an image inside a tool result has no equivalent in OpenAI chat');
      const text = p.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      out.push({ role: 'tool', tool_call_id: p.toolCallId, content: p.isError ? `Error: ${text}` : text });
    } else if (p.type === 'text' || p.type === 'image') rest.push(p);
  }
  if (rest.length) out.push({ role: 'user', content: contentParts(rest) });
}

export function encodeOpenAIRequest(req: ChatRequest, opts: TranslateOptions = {}): OpenAIChatRequest {
  const messages: OpenAIMessage[] = [];
  if (req.system.length) messages.push({ role: 'system', content: req.system.map((p) => p.text).join('\n\n') });
  for (const m of req.messages) encodeMessage(m, messages);
  const body: OpenAIChatRequest = { model: req.model, messages };
  if (req.maxOutputTokens != null) body.max_completion_tokens = req.maxOutputTokens;
  if (req.temperature != null) body.temperature = req.temperature;
  if (req.topP != null) body.top_p = req.topP;
  if (req.topK != null) unsupported(fieldOf(req, 'topK'), 'OpenAI has no top-k sampling');
  if (req.stop?.length) {
    if (req.stop.length > 4) unsupported(fieldOf(req, 'stop'), 'OpenAI takes at most 4 stop sequences');
    body.stop = req.stop;
  }
  if (req.presencePenalty != null) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty != null) body.frequency_penalty = req.frequencyPenalty;
  if (req.seed != null) body.seed = req.seed;
  if (req.user != null) body.user = req.user;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function' as const,
      function: { name: t.name, ...(t.description != null ? { description: t.description } : {}), parameters: t.parameters, ...(t.strict != null ? { strict: t.strict } : {}) },
    }));
  }
  const tc = req.toolChoice;
  if (tc) body.tool_choice = tc.type === 'tool' ? { type: 'function', function: { name: tc.name } } : tc.type;
  if (req.parallelToolCalls === false && req.tools?.length) body.parallel_tool_calls = false;
  const rf = req.responseFormat;
  if (rf?.type === 'json') body.response_format = { type: 'json_object' };
  else if (rf?.type === 'json_schema') body.response_format = { type: 'json_schema', json_schema: { name: rf.name, schema: rf.schema, ...(rf.strict != null ? { strict: rf.strict } : {}) } };
  if (req.thinking?.enabled && opts.reasoning !== false) {
    body.reasoning_effort = req.thinking.effort ?? budgetToEffort(req.thinking.budgetTokens ?? 8192);
  }
  if (req.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true }; // usage arrives in a last chunk only when asked for
  }
  return body;
}

