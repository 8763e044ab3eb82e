// Anthropic Messages requests ⇄ the intermediate form.
import type { AnthropicCacheControl, AnthropicContentBlock, AnthropicImageBlock, AnthropicMessage, AnthropicMessagesRequest, AnthropicTextBlock } from '../protocols/anthropic.ts';
import { unsupported } from './errors.ts';
import { fieldOf } from './fields.ts';
import type { CacheHint, ChatRequest, ImagePart, Message, Part, TextPart, ToolDef, TranslateOptions } from './ir.ts';
import { arr, isObject, obj, optInt, optNum, optStr, optStrArr, parseArguments, str, asText } from './util.ts';

const cacheOf = (cc: unknown): { cache?: CacheHint } => (isObject(cc) ? { cache: typeof cc.ttl === 'string' ? { ttl: cc.ttl } : {} } : {});

function textBlock(b: Record<string, unknown>, at: string): TextPart {
  return { type: 'text', text: str(b.text, `${at}.text`), at, ...cacheOf(b.cache_control) };
}

function imageBlock(b: Record<string, unknown>, at: string): ImagePart {
  const s = obj(b.source, `${at}.source`);
  if (s.type === 'base64') {
    return { type: 'image', source: { kind: 'base64', mediaType: str(s.media_type, `${at}.source.media_type`), data: str(s.data, `${at}.source.data`) }, at, ...cacheOf(b.cache_control) };
  }
  if (s.type === 'url') return { type: 'image', source: { kind: 'url', url: str(s.url, `${at}.source.url`) }, at, ...cacheOf(b.cache_control) };
  return unsupported(`${at}.source.type`, `image source '${asText(s.type)}' has no equivalent at this provider (use base64 or url)`);
}

/** A message's (or tool result's) content as blocks, each with its path. */
function blocksOf(content: unknown, at: string): Array<[Record<string, unknown>, string]> {
  if (content == null) return [];
  if (typeof content === 'string') return [[{ type: 'text', text: content }, at]];
  return arr(content, at).map((b, j) => [obj(b, `${at}[${j}]`), `${at}[${j}]`]);
}

function decodeBlock(b: Record<string, unknown>, at: string, names: Map<string, string>): Part {
  switch (b.type) {
    case 'text':
      return textBlock(b, at);
    case 'image':
      return imageBlock(b, at);
    case 'tool_use': {
      const id = str(b.id, `${at}.id`);
      const name = str(b.name, `${at}.name`);
      names.set(id, name);
      return { type: 'tool_call', id, name, arguments: JSON.stringify(b.input ?? {}), at };
    }
    case 'tool_result': {
      const id = str(b.tool_use_id, `${at}.tool_use_id`);
      const name = names.get(id);
      if (name === undefined) unsupported(`${at}.tool_use_id`, 'names no tool_use of an earlier assistant message');
      const content = blocksOf(b.content, `${at}.content`).map(([c, cat]): TextPart | ImagePart => {
        if (c.type === 'text') return textBlock(c, cat);
        if (c.type === 'image') return imageBlock(c, cat);
        return unsupported(`${cat}.type`, `'${asText(c.type)}' inside a tool result has no equivalent at this provider`);
      });
      return { type: 'tool_result', toolCallId: id, name: name!, content, isError: b.is_error === true, at, ...cacheOf(b.cache_control) };
    }
    case 'thinking': {
      const signature = optStr(b.signature, `${at}.signature`);
      return { type: 'thinking', text: str(b.thinking, `${at}.thinking`), ...(signature ? { signature } : {}), at };
    }
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: str(b.data, `${at}.data`), at };
    default:
      return unsupported(`${at}.type`, `content block '${asText(b.type)}' has no equivalent at this provider`);
  }
}

function decodeToolChoice(raw: unknown, req: ChatRequest): void {
  const tc = obj(raw, 'tool_choice');
  if (tc.type === 'auto' || tc.type === 'none') req.toolChoice = { type: tc.type };
  else if (tc.type === 'any') req.toolChoice = { type: 'required' };
  else if (tc.type === 'tool') req.toolChoice = { type: 'tool', name: str(tc.name, 'tool_choice.name') };
  else unsupported('tool_choice.type', `'${asText(tc.type)}' is not a known tool choice`);
  if (tc.disable_parallel_tool_use === true) req.parallelToolCalls = false;
}

function decodeThinking(raw: unknown): ChatRequest['thinking'] {
  const th = obj(raw, 'thinking');
  if (th.type === 'enabled') {
    const budget = optInt(th.budget_tokens, 'thinking.budget_tokens');
    return { enabled: true, ...(budget != null ? { budgetTokens: budget } : {}) };
  }
  if (th.type === 'disabled') return { enabled: false };
  if (th.type === 'adaptive') return { enabled: true };
  return unsupported('thinking.type', `'${asText(th.type)}' is not a known thinking mode`);
}

export function decodeAnthropicRequest(body: AnthropicMessagesRequest): ChatRequest {
  obj(body, 'body');
  for (const f of ['container', 'mcp_servers', 'context_management', 'output_format'] as const) {
    if (body[f] != null) unsupported(f, 'has no equivalent at this provider');
  }
  const system = typeof body.system === 'string' ? (body.system ? [{ type: 'text' as const, text: body.system, at: 'system' }] : []) : blocksOf(body.system, 'system').map(([b, at]) => textBlock(b, at));
  const names = new Map<string, string>();
  const messages = arr(body.messages, 'messages').map((raw, i): Message => {
    const at = `messages[${i}]`;
    const m = obj(raw, at);
    if (m.role !== 'user' && m.role !== 'assistant') unsupported(`${at}.role`, "must be 'user' or 'assistant'");
    const parts = blocksOf(m.content, `${at}.content`).map(([b, bat]) => decodeBlock(b, bat, names));
    return { role: m.role as 'user' | 'assistant', parts, at };
  });

  const req: ChatRequest = { source: 'anthropic', model: asText(body.model ?? ''), system, messages, stream: body.stream === true };
  const max = optInt(body.max_tokens, 'max_tokens');
  if (max != null) req.maxOutputTokens = max;
  const temperature = optNum(body.temperature, 'temperature');
  if (temperature != null) req.temperature = temperature;
  const topP = optNum(body.top_p, 'top_p');
  if (topP != null) req.topP = topP;
  const topK = optInt(body.top_k, 'top_k');
  if (topK != null) req.topK = topK;
  const stop = optStrArr(body.stop_sequences, 'stop_sequences');
  if (stop?.length) req.stop = stop;
  const user = isObject(body.metadata) ? optStr(body.metadata.user_id, 'metadata.user_id') : undefined;
  if (user != null) req.user = user;
  if (body.tools != null) {
    req.tools = arr(body.tools, 'tools').map((raw, i): ToolDef => {
      const t = obj(raw, `tools[${i}]`);
      if (t.type != null && t.type !== 'custom') return unsupported(`tools[${i}].type`, `server tool '${asText(t.type)}' runs at Anthropic only`);
      const description = optStr(t.description, `tools[${i}].description`);
      return {
        name: str(t.name, `tools[${i}].name`),
        ...(description != null ? { description } : {}),
        parameters: t.input_schema == null ? { type: 'object', properties: {} } : obj(t.input_schema, `tools[${i}].input_schema`),
        at: `tools[${i}]`,
        ...cacheOf(t.cache_control),
      };
    });
  }
  if (body.tool_choice != null) decodeToolChoice(body.tool_choice, req);
  if (body.thinking != null) req.thinking = decodeThinking(body.thinking);
  return req;
}

// ---- intermediate → Anthropic (a caller of another protocol served by an Anthropic channel) ----

const EFFORT_BUDGET = { minimal: 1024, low: 2048, medium: 8192, high: 24_576 } as const;
const MIN_BUDGET = 1024;

const cacheControl = (c: CacheHint | undefined): { cache_control?: AnthropicCacheControl } =>
  c ? { cache_control: { type: 'ephemeral', ...(c.ttl === '5m' || c.ttl === '1h' ? { ttl: c.ttl } : {}) } } : {};

function imageOut(p: ImagePart): AnthropicImageBlock {
  const source = p.source.kind === 'url' ? { type: 'url' as const, url: p.source.url } : { type: 'base64' as const, media_type: p.source.mediaType, data: p.source.data };
  return { type: 'image', source, ...cacheControl(p.cache) };
}

function blockOut(p: Part): AnthropicContentBlock | undefined {
  switch (p.type) {
    case 'text':
      return p.text === '' ? undefined : { type: 'text', text: p.text, ...cacheControl(p.cache) }; // Anthropic refuses empty text blocks
    case 'image':
      return imageOut(p);
    case 'tool_call':
      return { type: 'tool_use', id: p.id, name: p.name, input: parseArguments(p.arguments, p.at ? `${p.at}.arguments` : 'tool call arguments') };
    case 'tool_result': {
      const content = p.content.flatMap((c): Array<AnthropicTextBlock | AnthropicImageBlock> => (c.type === 'text' ? (c.text ? [{ type: 'text' as const, text: c.text }] : []) : [imageOut(c)]));
      return { type: 'tool_result', tool_use_id: p.toolCallId, content, ...(p.isError ? { is_error: true } : {}), ...cacheControl(p.cache) };
    }
    case 'thinking':
      // Anthropic checks thinking signatures; a thought from another provider has none, so it is left out.
      return p.signature ? { type: 'thinking', thinking: p.text, signature: p.signature } : undefined;
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: p.data };
  }
}

function encodeMessages(messages: Message[]): AnthropicMessage[] {
  const out: Array<{ role: 'user' | 'assistant'; content: AnthropicContentBlock[] }> = [];
  for (const m of messages) {
    const blocks = m.parts.flatMap((p) => blockOut(p) ?? []);
    if (blocks.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.role === m.role) last.content.push(...blocks); // consecutive turns of one role become one
    else out.push({ role: m.role, content: blocks });
  }
  // Anthropic wants the tool results first in a user turn.
  for (const m of out) if (m.role === 'user') m.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  return out;
}

export function encodeAnthropicRequest(req: ChatRequest, opts: TranslateOptions = {}): AnthropicMessagesRequest {
  const body: AnthropicMessagesRequest = {
    model: req.model,
    max_tokens: req.maxOutputTokens ?? opts.defaultMaxTokens ?? 4096,
    messages: encodeMessages(req.messages),
  };
  if (req.system.length) {
    body.system = req.system.some((p) => p.cache) ? req.system.map((p) => ({ type: 'text' as const, text: p.text, ...cacheControl(p.cache) })) : req.system.map((p) => p.text).join('\n\n');
  }
  if (req.temperature != null) {
    if (req.temperature > 1) unsupported(fieldOf(req, 'temperature'), 'Anthropic accepts a temperature from 0 to 1');
    body.temperature = req.temperature;
  }
  if (req.topP != null) body.top_p = req.topP;
  if (req.topK != null) body.top_k = req.topK;
  if (req.stop?.length) body.stop_sequences = req.stop;
  if (req.presencePenalty != null) unsupported(fieldOf(req, 'presencePenalty'), 'Anthropic has no presence penalty');
  if (req.frequencyPenalty != null) unsupported(fieldOf(req, 'frequencyPenalty'), 'Anthropic has no frequency penalty');
  if (req.responseFormat) unsupported(fieldOf(req, 'responseFormat'), 'Anthropic has no JSON output mode; describe the format in the prompt or use a tool');
  if (req.user != null) body.metadata = { user_id: req.user };
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({ name: t.name, ...(t.description != null ? { description: t.description } : {}), input_schema: t.parameters, ...cacheControl(t.cache) }));
    const noParallel = req.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
    const tc = req.toolChoice ?? { type: 'auto' as const };
    if (tc.type === 'none') body.tool_choice = { type: 'none' };
    else if (tc.type === 'tool') body.tool_choice = { type: 'tool', name: tc.name, ...noParallel };
    else if (tc.type === 'required') body.tool_choice = { type: 'any', ...noParallel };
    else if (req.toolChoice || req.parallelToolCalls === false) body.tool_choice = { type: 'auto', ...noParallel };
  } else if (req.toolChoice?.type === 'tool' || req.toolChoice?.type === 'required') {
    unsupported(fieldOf(req, 'toolChoice'), 'a tool is required but no tools are defined');
  }
  if (req.thinking?.enabled) {
    let budget = req.thinking.budgetTokens ?? EFFORT_BUDGET[req.thinking.effort ?? 'medium'];
    // Anthropic wants 1024 ≤ budget < max_tokens; an effort level adapts, an explicit budget is the caller's.
    if (req.thinking.budgetTokens == null) budget = Math.min(budget, body.max_tokens - 1);
    if (budget < MIN_BUDGET || budget >= body.max_tokens) {
      unsupported(fieldOf(req, 'thinking'), `Anthropic needs a thinking budget of at least ${MIN_BUDGET} tokens and below the output cap (${body.max_tokens})`);
    }
    body.thinking = { type: 'enabled', budget_tokens: budget };
  }
  if (req.stream) body.stream = true;
  return body;
}
