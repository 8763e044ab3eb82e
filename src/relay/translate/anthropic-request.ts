// Anthropic Messages requests ⇄ the intermediate form.
import type {
  AnthropicCacheControl,
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicTextBlock,
  AnthropicToolChoice,
} from '../protocols/anthropic.ts';
import { unsupported } from './errors.ts';
import { fieldOf } from './fields.ts';
import type { CacheHint, ChatRequest, ImagePart, Message, Part, TextPart, ToolDef, TranslateOptions } from './ir.ts';
import { isObject, parseArguments } from './util.ts';

const cacheOf = (cc: AnthropicCacheControl | null | undefined): { cache?: CacheHint } => (cc ? { cache: cc.ttl ? { ttl: cc.ttl } : {} } : {});

function textBlock(b: AnthropicContentBlock, at: string): TextPart {
  const t = b as AnthropicTextBlock;
  if (typeof t.text !== 'string') unsupported(`${at}.text`, 'must be a string');
  return { type: 'text', text: t.text, at, ...cacheOf(t.cache_control) };
}

function imageBlock(b: AnthropicContentBlock, at: string): ImagePart {
  const s = (b as AnthropicImageBlock).source;
  if (isObject(s) && s.type === 'base64' && typeof s.data === 'string' && typeof s.media_type === 'string') {
    return { type: 'image', source: { kind: 'base64', mediaType: s.media_type, data: s.data }, at, ...cacheOf((b as AnthropicImageBlock).cache_control) };
  }
  if (isObject(s) && s.type === 'url' && typeof s.url === 'string') return { type: 'image', source: { kind: 'url', url: s.url }, at, ...cacheOf((b as AnthropicImageBlock).cache_control) };
  return unsupported(`${at}.source.type`, `image source '${String(isObject(s) ? s.type : s)}' has no equivalent at this provider (use base64 or url)`);
}

const blocksOf = (content: AnthropicMessage['content'] | undefined): AnthropicContentBlock[] =>
  typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];

export function decodeAnthropicRequest(body: AnthropicMessagesRequest): ChatRequest {
  if (!isObject(body) || !Array.isArray(body.messages)) unsupported('messages', 'must be an array');
  for (const f of ['container', 'mcp_servers', 'context_management', 'output_format'] as const) {
    if (body[f] != null) unsupported(f, 'has no equivalent at this provider');
  }
  const system: TextPart[] =
    typeof body.system === 'string'
      ? body.system ? [{ type: 'text', text: body.system, at: 'system' }] : []
      : Array.isArray(body.system) ? body.system.map((b, i) => textBlock(b, `system[${i}]`)) : [];
  const names = new Map<string, string>();
  const messages: Message[] = body.messages.map((m, i): Message => {
    const at = `messages[${i}]`;
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) unsupported(`${at}.role`, "must be 'user' or 'assistant'");
    const parts = blocksOf(m.content).map((b, j): Part => {
      const bat = typeof m.content === 'string' ? `${at}.content` : `${at}.content[${j}]`;
      switch (b.type) {
        case 'text':
          return textBlock(b, bat);
        case 'image':
          return imageBlock(b, bat);
        case 'tool_use': {
          const u = b as { id: string; name: string; input: unknown };
          names.set(u.id, u.name);
          return { type: 'tool_call', id: u.id, name: u.name, arguments: JSON.stringify(u.input ?? {}), at: bat };
        }
        case 'tool_result': {
          const r = b as { tool_use_id: string; content?: AnthropicMessage['content']; is_error?: boolean; cache_control?: AnthropicCacheControl };
          const name = names.get(r.tool_use_id);
          if (name === undefined) unsupported(`${bat}.tool_use_id`, 'names no tool_use of an earlier assistant message');
          const content = blocksOf(r.content).map((c, k): TextPart | ImagePart => {
            const cat = `${bat}.content[${k}]`;
            if (c.type === 'text') return textBlock(c, cat);
            if (c.type === 'image') return imageBlock(c, cat);
            return unsupported(`${cat}.type`, `'${c.type}' inside a tool result has no equivalent at this provider`);
          });
          return { type: 'tool_result', toolCallId: r.tool_use_id, name: name!, content, isError: r.is_error === true, at: bat, ...cacheOf(r.cache_control) };
        }
        case 'thinking': {
          const t = b as { thinking: string; signature?: string };
          return { type: 'thinking', text: String(t.thinking ?? ''), ...(t.signature ? { signature: t.signature } : {}), at: bat };
        }
        case 'redacted_thinking':
          return { type: 'redacted_thinking', data: String((b as { data?: unknown }).data ?? ''), at: bat };
        default:
          return unsupported(`${bat}.type`, `content block '${b.type}' has no equivalent at this provider`);
      }
    });
    return { role: m.role, parts, at };
  });

  const req: ChatRequest = { source: 'anthropic', model: String(body.model ?? ''), system, messages, stream: body.stream === true };
  if (body.max_tokens != null) req.maxOutputTokens = body.max_tokens;
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.topP = body.top_p;
  if (body.top_k != null) req.topK = body.top_k;
  if (body.stop_sequences?.length) req.stop = body.stop_sequences;
  if (typeof body.metadata?.user_id === 'string') req.user = body.metadata.user_id;
  if (Array.isArray(body.tools)) {
    req.tools = body.tools.map((t, i): ToolDef => {
      if (t.type != null && t.type !== 'custom') return unsupported(`tools[${i}].type`, `server tool '${t.type}' runs at Anthropic only`);
      return { name: t.name, ...(t.description != null ? { description: t.description } : {}), parameters: t.input_schema ?? { type: 'object', properties: {} }, at: `tools[${i}]`, ...cacheOf(t.cache_control) };
    });
  }
  const tc = body.tool_choice as AnthropicToolChoice | undefined;
  if (tc != null) {
    if (tc.type === 'auto' || tc.type === 'none') req.toolChoice = { type: tc.type };
    else if (tc.type === 'any') req.toolChoice = { type: 'required' };
    else if (tc.type === 'tool') req.toolChoice = { type: 'tool', name: tc.name };
    else unsupported('tool_choice.type', `'${String((tc as { type: unknown }).type)}' is not a known tool choice`);
    if ('disable_parallel_tool_use' in tc && tc.disable_parallel_tool_use === true) req.parallelToolCalls = false;
  }
  const th = body.thinking as { type?: string; budget_tokens?: number } | undefined;
  if (th != null) {
    if (th.type === 'enabled') req.thinking = { enabled: true, ...(th.budget_tokens != null ? { budgetTokens: th.budget_tokens } : {}) };
    else if (th.type === 'disabled') req.thinking = { enabled: false };
    else if (th.type === 'adaptive') req.thinking = { enabled: true };
    else unsupported('thinking.type', `'${String(th.type)}' is not a known thinking mode`);
  }
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
