// OpenAI Responses API requests → the intermediate form, for Responses callers served by a chat-only
// provider. Only the decoder exists: an `openai` channel gets the caller's bytes as they are.
// What the Responses API keeps on the server (previous_response_id, conversation, stored prompts)
// and hosted tools have no equivalent at a chat provider: a TranslationError naming the field.
import { unsupported } from './errors.ts';
import type { ChatRequest, ImagePart, Message, Part, TextPart, ToolChoice, ToolDef } from './ir.ts';
import { arr, asText, imageFromUrl, isObject, obj, optInt, optNum, optStr, str } from './util.ts';

const EFFORTS: Record<string, 'minimal' | 'low' | 'medium' | 'high'> = { minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };

/** Fields whose meaning lives at OpenAI (state, hosted features): refused rather than silently dropped. */
const SERVER_SIDE: Record<string, string> = {
  previous_response_id: 'responses stored at OpenAI can only be continued by an OpenAI channel; send the whole conversation in input',
  conversation: 'conversations stored at OpenAI can only be used by an OpenAI channel',
  prompt: 'prompt templates stored at OpenAI can only be used by an OpenAI channel',
  background: 'background responses can only be run by an OpenAI channel',
  max_tool_calls: 'has no equivalent at this provider',
  top_logprobs: 'log probabilities can only be served by an OpenAI channel',
};

function contentParts(content: unknown, at: string, role: 'user' | 'assistant' | 'system'): Array<TextPart | ImagePart> {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content, at }];
  return arr(content, at).map((raw, j): TextPart | ImagePart => {
    const pat = `${at}[${j}]`;
    const p = obj(raw, pat);
    if (p.type === 'input_text' || p.type === 'output_text') return { type: 'text', text: str(p.text, `${pat}.text`), at: pat };
    if (p.type === 'refusal') return { type: 'text', text: str(p.refusal, `${pat}.refusal`), at: pat };
    if (p.type === 'input_image' && role === 'user') {
      if (p.file_id != null) return unsupported(`${pat}.file_id`, 'files uploaded to OpenAI can only be used by an OpenAI channel');
      return { type: 'image', source: imageFromUrl(str(p.image_url, `${pat}.image_url`), `${pat}.image_url`), at: pat };
    }
    return unsupported(`${pat}.type`, `content part '${asText(p.type)}' has no equivalent at this provider`);
  });
}

/** The conversation: messages, function calls (merged into one assistant turn) and their outputs. */
function decodeInput(input: unknown, system: TextPart[]): Message[] {
  if (input == null) return [];
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', text: input, at: 'input' }], at: 'input' }];
  const out: Message[] = [];
  const toolNames = new Map<string, string>();
  const isTool = (p: Part) => p.type === 'tool_call' || p.type === 'tool_result';
  const push = (role: 'user' | 'assistant', parts: Part[], at: string) => {
    const last = out.at(-1);
    // A call joins the assistant turn before it; consecutive outputs form one user turn (as chat providers expect).
    if (last && last.role === role && parts.every(isTool) && (role === 'assistant' || last.parts.every(isTool))) last.parts.push(...parts);
    else out.push({ role, parts, at });
  };
  arr(input, 'input').forEach((raw, i) => {
    const at = `input[${i}]`;
    const item = obj(raw, at);
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = item.role;
      if (role === 'system' || role === 'developer') {
        if (out.length > 0) unsupported(`${at}.role`, 'a system message after the conversation started cannot be placed at this provider (its system prompt comes first)');
        for (const p of contentParts(item.content, `${at}.content`, 'system')) {
          if (p.type !== 'text') unsupported(`${at}.content`, 'a system message can only hold text');
          system.push(p as TextPart);
        }
      } else if (role === 'user' || role === 'assistant') {
        push(role, contentParts(item.content, `${at}.content`, role), at);
      } else {
        unsupported(`${at}.role`, `role '${asText(role)}' cannot be translated`);
      }
    } else if (type === 'function_call') {
      const id = str(item.call_id, `${at}.call_id`);
      const name = str(item.name, `${at}.name`);
      toolNames.set(id, name);
      push('assistant', [{ type: 'tool_call', id, name, arguments: optStr(item.arguments, `${at}.arguments`) ?? '', at }], at);
    } else if (type === 'function_call_output') {
      const id = str(item.call_id, `${at}.call_id`);
      const name = toolNames.get(id);
      if (name === undefined) unsupported(`${at}.call_id`, 'names no function_call earlier in input');
      const content = contentParts(item.output, `${at}.output`, 'user');
      push('user', [{ type: 'tool_result', toolCallId: id, name: name!, content, isError: false, at }], at);
    } else if (type === 'reasoning') {
      // Reasoning items carry OpenAI's encrypted state, meaningless elsewhere: dropped (as chat drops thinking history).
    } else {
      unsupported(`${at}.type`, `input item '${asText(type)}' has no equivalent at this provider`);
    }
  });
  return out;
}

function decodeTools(tools: unknown): ToolDef[] {
  return arr(tools, 'tools').map((raw, i): ToolDef => {
    const t = obj(raw, `tools[${i}]`);
    if (t.type !== 'function') return unsupported(`tools[${i}].type`, `tool type '${asText(t.type)}' has no equivalent at this provider (only function tools)`);
    const description = optStr(t.description, `tools[${i}].description`);
    return {
      name: str(t.name, `tools[${i}].name`),
      ...(description != null ? { description } : {}),
      parameters: t.parameters == null ? { type: 'object', properties: {} } : obj(t.parameters, `tools[${i}].parameters`),
      ...(t.strict != null ? { strict: t.strict === true } : {}),
      at: `tools[${i}]`,
    };
  });
}

function decodeToolChoice(c: unknown): ToolChoice {
  if (c === 'auto' || c === 'none' || c === 'required') return { type: c };
  if (isObject(c) && c.type === 'function' && typeof c.name === 'string') return { type: 'tool', name: c.name };
  return unsupported('tool_choice', 'only auto, none, required or a function can be translated');
}

export function decodeResponsesRequest(body: Record<string, unknown>): ChatRequest {
  obj(body, 'body');
  for (const [field, why] of Object.entries(SERVER_SIDE)) if (body[field] != null && body[field] !== false) unsupported(field, why);
  const system: TextPart[] = [];
  const instructions = optStr(body.instructions, 'instructions');
  if (instructions) system.push({ type: 'text', text: instructions, at: 'instructions' });
  const messages = decodeInput(body.input, system);
  if (messages.length === 0) unsupported('input', 'must hold at least one user message for this provider');
  const req: ChatRequest = { source: 'responses', model: asText(body.model ?? ''), system, messages, stream: body.stream === true };
  const max = optInt(body.max_output_tokens, 'max_output_tokens');
  if (max != null) req.maxOutputTokens = max;
  const temperature = optNum(body.temperature, 'temperature');
  if (temperature != null) req.temperature = temperature;
  const topP = optNum(body.top_p, 'top_p');
  if (topP != null) req.topP = topP;
  const user = optStr(body.user, 'user') ?? optStr(body.safety_identifier, 'safety_identifier');
  if (user != null) req.user = user;
  if (body.tools != null && arr(body.tools, 'tools').length > 0) req.tools = decodeTools(body.tools);
  if (body.tool_choice != null) req.toolChoice = decodeToolChoice(body.tool_choice);
  if (body.parallel_tool_calls != null) req.parallelToolCalls = body.parallel_tool_calls !== false;
  if (body.text != null) {
    const format = obj(body.text, 'text').format;
    if (format != null) {
      const f = obj(format, 'text.format');
      if (f.type === 'json_object') req.responseFormat = { type: 'json' };
      else if (f.type === 'json_schema') {
        req.responseFormat = {
          type: 'json_schema',
          name: str(f.name, 'text.format.name'),
          schema: f.schema == null ? {} : obj(f.schema, 'text.format.schema'),
          ...(f.strict != null ? { strict: f.strict === true } : {}),
        };
      } else if (f.type !== 'text') unsupported('text.format.type', `'${asText(f.type)}' cannot be translated`);
    }
  }
  if (body.reasoning != null) {
    const effort = obj(body.reasoning, 'reasoning').effort;
    if (effort === 'none') req.thinking = { enabled: false };
    else if (effort != null) {
      const e = typeof effort === 'string' && Object.hasOwn(EFFORTS, effort) ? EFFORTS[effort] : undefined;
      if (!e) unsupported('reasoning.effort', `'${asText(effort)}' is not a known effort`);
      req.thinking = { enabled: true, effort: e! };
    }
  }
  return req;
}
