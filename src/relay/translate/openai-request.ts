// OpenAI chat completions requests ⇄ the intermediate form.
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage, OpenAIToolChoice } from '../protocols/openai.ts';
import { unsupported } from './errors.ts';
import { fieldOf } from './fields.ts';
import type { ChatRequest, ImagePart, Message, Part, TextPart, ToolChoice, ToolDef, TranslateOptions } from './ir.ts';
import { arr, dataUrl, imageFromUrl, isObject, obj, optArr, optInt, optNum, optStr, optStrArr, str, asText } from './util.ts';

const EFFORTS: Record<string, 'minimal' | 'low' | 'medium' | 'high'> = { minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };

function textPart(p: unknown, at: string): TextPart {
  const o = obj(p, at);
  const text = o.type === 'refusal' ? str(o.refusal, `${at}.refusal`) : str(o.text, `${at}.text`);
  const cc = o.cache_control;
  return { type: 'text', text, at, ...(isObject(cc) ? { cache: typeof cc.ttl === 'string' ? { ttl: cc.ttl } : {} } : {}) };
}

function textOf(content: unknown, at: string): TextPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content, at }];
  return arr(content, at).map((p, j) => {
    const type = obj(p, `${at}[${j}]`).type;
    if (type !== 'text' && type !== 'refusal') unsupported(`${at}[${j}].type`, `only text parts are allowed here, not '${asText(type)}'`);
    return textPart(p, `${at}[${j}]`);
  });
}

function userParts(content: unknown, at: string): Array<TextPart | ImagePart> {
  if (content == null) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content, at }];
  return arr(content, at).map((p, j): TextPart | ImagePart => {
    const pat = `${at}[${j}]`;
    const o = obj(p, pat);
    if (o.type === 'text') return textPart(o, pat);
    if (o.type === 'image_url') {
      const url = str(obj(o.image_url, `${pat}.image_url`).url, `${pat}.image_url.url`);
      return { type: 'image', source: imageFromUrl(url, `${pat}.image_url.url`), at: pat };
    }
    return unsupported(`${pat}.type`, `content part '${asText(o.type)}' has no equivalent at this provider`);
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
  if (isObject(body.logit_bias) && Object.keys(body.logit_bias).length > 0) unsupported('logit_bias', 'has no equivalent at this provider');
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) unsupported('audio', 'audio output has no equivalent at this provider');
  if (body.prediction != null) unsupported('prediction', 'predicted outputs have no equivalent at this provider');
  if (body.web_search_options != null) unsupported('web_search_options', 'web search has no equivalent at this provider');
  if (body.functions != null || body.function_call != null) unsupported('functions', 'the deprecated functions API is not translated; use tools');
}

function decodeMessages(messages: unknown[], system: TextPart[]): Message[] {
  const out: Message[] = [];
  const toolNames = new Map<string, string>();
  messages.forEach((raw, i) => {
    const at = `messages[${i}]`;
    const m = obj(raw, at);
    if (m.role === 'system' || m.role === 'developer') {
      if (out.length > 0) unsupported(`${at}.role`, 'a system message after the conversation started cannot be placed at this provider (its system prompt comes first)');
      system.push(...textOf(m.content, `${at}.content`));
    } else if (m.role === 'user') {
      out.push({ role: 'user', parts: userParts(m.content, `${at}.content`), at });
    } else if (m.role === 'assistant') {
      if (m.function_call != null) unsupported(`${at}.function_call`, 'the deprecated functions API is not translated; use tool_calls');
      const parts: Part[] = textOf(m.content, `${at}.content`);
      const refusal = optStr(m.refusal, `${at}.refusal`);
      if (refusal) parts.push({ type: 'text', text: refusal, at: `${at}.refusal` });
      optArr(m.tool_calls, `${at}.tool_calls`).forEach((raw, k) => {
        const tat = `${at}.tool_calls[${k}]`;
        const tc = obj(raw, tat);
        if (tc.type !== 'function') unsupported(`${tat}.type`, 'only function tool calls can be translated');
        const f = obj(tc.function, `${tat}.function`);
        const id = str(tc.id, `${tat}.id`);
        const name = str(f.name, `${tat}.function.name`);
        toolNames.set(id, name);
        parts.push({ type: 'tool_call', id, name, arguments: optStr(f.arguments, `${tat}.function.arguments`) ?? '', at: tat });
      });
      out.push({ role: 'assistant', parts, at });
    } else if (m.role === 'tool') {
      const id = str(m.tool_call_id, `${at}.tool_call_id`);
      const name = toolNames.get(id);
      if (name === undefined) unsupported(`${at}.tool_call_id`, 'names no tool call of an earlier assistant message');
      const content = textOf(m.content, `${at}.content`);
      out.push({ role: 'user', parts: [{ type: 'tool_result', toolCallId: id, name: name!, content, isError: false, at }], at });
    } else {
      unsupported(`${at}.role`, `role '${asText(m.role)}' cannot be translated`);
    }
  });
  return out;
}

function decodeTools(tools: unknown): ToolDef[] {
  return arr(tools, 'tools').map((raw, i): ToolDef => {
    const t = obj(raw, `tools[${i}]`);
    if (t.type !== 'function') return unsupported(`tools[${i}].type`, `tool type '${asText(t.type)}' has no equivalent at this provider`);
    const f = obj(t.function, `tools[${i}].function`);
    const description = optStr(f.description, `tools[${i}].function.description`);
    const strict = f.strict == null ? undefined : f.strict === true;
    return {
      name: str(f.name, `tools[${i}].function.name`),
      ...(description != null ? { description } : {}),
      parameters: f.parameters == null ? { type: 'object', properties: {} } : obj(f.parameters, `tools[${i}].function.parameters`),
      ...(strict != null ? { strict } : {}),
      at: `tools[${i}]`,
    };
  });
}

export function decodeOpenAIRequest(body: OpenAIChatRequest): ChatRequest {
  obj(body, 'body');
  arr(body.messages, 'messages');
  rejectUntranslatable(body);
  const system: TextPart[] = [];
  const messages = decodeMessages(body.messages, system);
  const req: ChatRequest = { source: 'openai', model: asText(body.model ?? ''), system, messages, stream: body.stream === true };
  const max = optInt(body.max_completion_tokens, 'max_completion_tokens') ?? optInt(body.max_tokens, 'max_tokens');
  if (max != null) req.maxOutputTokens = max;
  const temperature = optNum(body.temperature, 'temperature');
  if (temperature != null) req.temperature = temperature;
  const topP = optNum(body.top_p, 'top_p');
  if (topP != null) req.topP = topP;
  const stop = typeof body.stop === 'string' ? [body.stop] : optStrArr(body.stop, 'stop');
  if (stop?.length) req.stop = stop;
  const presence = optNum(body.presence_penalty, 'presence_penalty');
  if (presence) req.presencePenalty = presence;
  const frequency = optNum(body.frequency_penalty, 'frequency_penalty');
  if (frequency) req.frequencyPenalty = frequency;
  const seed = optInt(body.seed, 'seed');
  if (seed != null) req.seed = seed;
  const user = optStr(body.user, 'user');
  if (user != null) req.user = user;
  if (body.tools != null) req.tools = decodeTools(body.tools);
  if (body.tool_choice != null) req.toolChoice = decodeToolChoice(body.tool_choice);
  if (body.parallel_tool_calls != null) req.parallelToolCalls = body.parallel_tool_calls !== false;
  const rf = body.response_format as unknown;
  if (rf != null) {
    const type = obj(rf, 'response_format').type;
    if (type === 'json_object') req.responseFormat = { type: 'json' };
    else if (type === 'json_schema') {
      const js = obj((rf as { json_schema?: unknown }).json_schema, 'response_format.json_schema');
      req.responseFormat = {
        type: 'json_schema',
        name: str(js.name, 'response_format.json_schema.name'),
        schema: js.schema == null ? {} : obj(js.schema, 'response_format.json_schema.schema'),
        ...(js.strict != null ? { strict: js.strict === true } : {}),
      };
    } else if (type !== 'text') unsupported('response_format.type', `'${asText(type)}' cannot be translated`);
  }
  const effort = body.reasoning_effort as unknown;
  if (effort === 'none') req.thinking = { enabled: false };
  else if (effort != null) {
    const e = typeof effort === 'string' && Object.hasOwn(EFFORTS, effort) ? EFFORTS[effort] : undefined;
    if (!e) unsupported('reasoning_effort', `'${asText(effort)}' is not a known effort`);
    req.thinking = { enabled: true, effort: e! };
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

