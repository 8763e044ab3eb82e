// Gemini generateContent requests ⇄ the intermediate form. The model and streaming come from the
// URL (`/v1beta/models/{model}:streamGenerateContent`), not the body.
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart } from '../protocols/gemini.ts';
import { unsupported } from './errors.ts';
import { fieldOf } from './fields.ts';
import type { ChatRequest, ImagePart, Message, Part, TextPart, ToolDef } from './ir.ts';
import { imageTypeOfUrl, isObject, parseArguments } from './util.ts';

/**
 * Gemini accepts a functionCall without a thought signature from another model only with this
 * documented placeholder (Gemini 3 refuses unsigned calls in the history).
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

const LEVEL_EFFORT = { minimal: 'minimal', low: 'low', medium: 'medium', high: 'high' } as const;

/** Gemini's OpenAPI-subset schema (`type: 'OBJECT'`) → JSON Schema (`type: 'object'`). */
export function openApiToJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(openApiToJsonSchema);
  if (!isObject(s)) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'type' && typeof v === 'string') out.type = v.toLowerCase();
    else if (k === 'properties' && isObject(v)) out.properties = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, openApiToJsonSchema(pv)]));
    else out[k] = typeof v === 'object' ? openApiToJsonSchema(v) : v;
  }
  return out;
}

function responseText(response: unknown): { text: string; isError: boolean } {
  if (isObject(response)) {
    const keys = Object.keys(response);
    if (keys.length === 1 && typeof response.output === 'string') return { text: response.output, isError: false };
    if (keys.length === 1 && typeof response.error === 'string') return { text: response.error, isError: true };
    if (keys.length === 1 && response.error !== undefined) return { text: JSON.stringify(response.error), isError: true };
  }
  return { text: JSON.stringify(response ?? {}), isError: false };
}

function mediaPart(p: GeminiPart, at: string): ImagePart {
  if (p.inlineData) {
    if (!p.inlineData.mimeType?.startsWith('image/')) unsupported(`${at}.inlineData.mimeType`, `'${p.inlineData.mimeType}' data has no equivalent at this provider (images only)`);
    return { type: 'image', source: { kind: 'base64', mediaType: p.inlineData.mimeType, data: p.inlineData.data }, at };
  }
  const f = p.fileData!;
  if (!/^https?:\/\//i.test(f.fileUri ?? '')) unsupported(`${at}.fileData.fileUri`, 'only public http(s) image URLs can be passed to this provider (Gemini file and gs:// URIs cannot)');
  if (f.mimeType && !f.mimeType.startsWith('image/')) unsupported(`${at}.fileData.mimeType`, `'${f.mimeType}' files have no equivalent at this provider (images only)`);
  return { type: 'image', source: { kind: 'url', url: f.fileUri }, at };
}

export function decodeGeminiRequest(body: GeminiGenerateContentRequest, model: string, stream: boolean): ChatRequest {
  if (!isObject(body) || !Array.isArray(body.contents)) unsupported('contents', 'must be an array');
  if (body.cachedContent != null) unsupported('cachedContent', 'Gemini context caches exist at Gemini only');
  const system: TextPart[] = (body.systemInstruction?.parts ?? []).map((p, i) => {
    if (typeof p.text !== 'string') unsupported(`systemInstruction.parts[${i}]`, 'only text can be a system instruction at this provider');
    return { type: 'text', text: p.text!, at: `systemInstruction.parts[${i}]` };
  });
  let calls = 0;
  const unanswered: Array<{ id: string; name: string }> = [];
  const messages = body.contents.map((c: GeminiContent, i): Message => {
    const at = `contents[${i}]`;
    if (!isObject(c) || !Array.isArray(c.parts)) unsupported(`${at}.parts`, 'must be an array');
    const role = c.role === 'model' ? 'assistant' : 'user';
    const parts = c.parts.flatMap((p, j): Part[] => {
      const pat = `${at}.parts[${j}]`;
      if (p.functionCall) {
        const id = p.functionCall.id ?? `call_${++calls}`;
        unanswered.push({ id, name: p.functionCall.name });
        return [{ type: 'tool_call', id, name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}), ...(p.thoughtSignature && p.thoughtSignature !== SKIP_THOUGHT_SIGNATURE ? { signature: p.thoughtSignature } : {}), at: pat }];
      }
      if (p.functionResponse) {
        const fr = p.functionResponse;
        const k = unanswered.findIndex((u) => (fr.id ? u.id === fr.id : u.name === fr.name));
        if (k < 0) unsupported(`${pat}.functionResponse`, 'answers no functionCall of an earlier model turn');
        const [call] = unanswered.splice(k, 1);
        const { text, isError } = responseText(fr.response);
        return [{ type: 'tool_result', toolCallId: call!.id, name: fr.name, content: [{ type: 'text', text }], isError, at: pat }];
      }
      if (typeof p.text === 'string') {
        if (p.thought === true) return [{ type: 'thinking', text: p.text, ...(p.thoughtSignature ? { signature: p.thoughtSignature } : {}), at: pat }];
        return p.text === '' ? [] : [{ type: 'text', text: p.text, at: pat }];
      }
      if (p.inlineData || p.fileData) return [mediaPart(p, pat)];
      return unsupported(pat, `part '${Object.keys(p).join(',')}' has no equivalent at this provider`);
    });
    return { role, parts, at };
  });

  const req: ChatRequest = { source: 'gemini', model, system, messages, stream };
  const g = body.generationConfig ?? {};
  if (g.candidateCount != null && g.candidateCount !== 1) unsupported('generationConfig.candidateCount', 'several candidates can only be served by a Gemini channel');
  if (g.responseLogprobs === true) unsupported('generationConfig.responseLogprobs', 'log probabilities can only be served by a Gemini channel');
  if (g.responseModalities?.some((m) => m.toUpperCase() !== 'TEXT')) unsupported('generationConfig.responseModalities', 'only text output can be translated');
  if (g.maxOutputTokens != null) req.maxOutputTokens = g.maxOutputTokens;
  if (g.temperature != null) req.temperature = g.temperature;
  if (g.topP != null) req.topP = g.topP;
  if (g.topK != null) req.topK = g.topK;
  if (g.stopSequences?.length) req.stop = g.stopSequences;
  if (g.presencePenalty) req.presencePenalty = g.presencePenalty;
  if (g.frequencyPenalty) req.frequencyPenalty = g.frequencyPenalty;
  if (g.seed != null) req.seed = g.seed;
  if (g.responseMimeType === 'application/json') {
    const schema = g.responseJsonSchema ?? (g.responseSchema != null ? openApiToJsonSchema(g.responseSchema) : undefined);
    req.responseFormat = isObject(schema) ? { type: 'json_schema', name: 'response', schema } : { type: 'json' };
  } else if (g.responseMimeType != null && g.responseMimeType !== 'text/plain') {
    unsupported('generationConfig.responseMimeType', `'${g.responseMimeType}' cannot be translated`);
  }
  const th = g.thinkingConfig;
  if (th) {
    const level = th.thinkingLevel?.toLowerCase() as keyof typeof LEVEL_EFFORT | undefined;
    if (th.thinkingBudget === 0) req.thinking = { enabled: false };
    else if (th.thinkingBudget != null && th.thinkingBudget > 0) req.thinking = { enabled: true, budgetTokens: th.thinkingBudget };
    else if (level && LEVEL_EFFORT[level]) req.thinking = { enabled: true, effort: LEVEL_EFFORT[level] };
    else if (th.thinkingBudget === -1 || th.includeThoughts) req.thinking = { enabled: true };
  }
  const tools: ToolDef[] = [];
  (body.tools ?? []).forEach((t, i) => {
    const other = Object.keys(t).filter((k) => k !== 'functionDeclarations');
    if (other.length) unsupported(`tools[${i}].${other[0]}`, 'Gemini built-in tools run at Gemini only');
    (t.functionDeclarations ?? []).forEach((f, j) => {
      const parameters = f.parametersJsonSchema ?? (f.parameters != null ? openApiToJsonSchema(f.parameters) : { type: 'object', properties: {} });
      tools.push({ name: f.name, ...(f.description != null ? { description: f.description } : {}), parameters: parameters as Record<string, unknown>, at: `tools[${i}].functionDeclarations[${j}]` });
    });
  });
  if (tools.length) req.tools = tools;
  const fc = body.toolConfig?.functionCallingConfig;
  if (fc?.mode === 'AUTO') req.toolChoice = { type: 'auto' };
  else if (fc?.mode === 'NONE') req.toolChoice = { type: 'none' };
  else if (fc?.mode === 'ANY') {
    const names = fc.allowedFunctionNames ?? [];
    if (names.length === 1) req.toolChoice = { type: 'tool', name: names[0]! };
    else if (names.length > 1 && names.length < tools.length) unsupported('toolConfig.functionCallingConfig.allowedFunctionNames', 'a required subset of several functions cannot be expressed at this provider');
    else req.toolChoice = { type: 'required' };
  } else if (fc?.mode === 'VALIDATED') unsupported('toolConfig.functionCallingConfig.mode', 'VALIDATED exists at Gemini only');
  return req;
}

// ---- intermediate → Gemini (a caller of another protocol served by a Gemini channel) ----

const EFFORT_BUDGET = { minimal: 512, low: 2048, medium: 8192, high: 24_576 } as const;

function partOut(p: Part): GeminiPart | undefined {
  switch (p.type) {
    case 'text':
      return p.text === '' ? undefined : { text: p.text };
    case 'image':
      if (p.source.kind === 'base64') return { inlineData: { mimeType: p.source.mediaType, data: p.source.data } };
      {
        const mimeType = imageTypeOfUrl(p.source.url);
        if (!mimeType) unsupported(p.at ?? 'image', 'Gemini needs the type of an image URL; use a URL ending in .png, .jpg, .gif or .webp, or send base64');
        return { fileData: { mimeType, fileUri: p.source.url } };
      }
    case 'tool_call':
      return { functionCall: { id: p.id, name: p.name, args: parseArguments(p.arguments, p.at ? `${p.at}.arguments` : 'tool call arguments') }, thoughtSignature: p.signature ?? SKIP_THOUGHT_SIGNATURE };
    case 'tool_result': {
      for (const c of p.content) if (c.type === 'image') unsupported(c.at ?? p.at ?? 'tool result', 'an image inside a tool result cannot be passed to Gemini');
      const text = p.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      return { functionResponse: { id: p.toolCallId, name: p.name, response: p.isError ? { error: text } : { output: text } } };
    }
    default:
      return undefined; // thoughts of another provider cannot be replayed to Gemini
  }
}

export function encodeGeminiRequest(req: ChatRequest): GeminiGenerateContentRequest {
  const contents: GeminiContent[] = [];
  for (const m of req.messages) {
    const parts = m.parts.flatMap((p): GeminiPart[] => {
      const out = partOut(p);
      return out ? [out] : [];
    });
    if (parts.length === 0) continue;
    const role = m.role === 'assistant' ? 'model' : 'user';
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  const body: GeminiGenerateContentRequest = { contents };
  if (req.system.length) body.systemInstruction = { parts: req.system.map((p) => ({ text: p.text })) };
  const g: NonNullable<GeminiGenerateContentRequest['generationConfig']> = {};
  if (req.maxOutputTokens != null) g.maxOutputTokens = req.maxOutputTokens;
  if (req.temperature != null) g.temperature = req.temperature;
  if (req.topP != null) g.topP = req.topP;
  if (req.topK != null) g.topK = req.topK;
  if (req.stop?.length) {
    if (req.stop.length > 5) unsupported(fieldOf(req, 'stop'), 'Gemini takes at most 5 stop sequences');
    g.stopSequences = req.stop;
  }
  if (req.presencePenalty != null) g.presencePenalty = req.presencePenalty;
  if (req.frequencyPenalty != null) g.frequencyPenalty = req.frequencyPenalty;
  if (req.seed != null) g.seed = req.seed;
  const rf = req.responseFormat;
  if (rf) {
    g.responseMimeType = 'application/json';
    if (rf.type === 'json_schema') g.responseJsonSchema = rf.schema;
  }
  if (req.thinking) {
    g.thinkingConfig = req.thinking.enabled
      ? { thinkingBudget: req.thinking.budgetTokens ?? (req.thinking.effort ? EFFORT_BUDGET[req.thinking.effort] : -1), includeThoughts: true }
      : { thinkingBudget: 0 };
  }
  if (Object.keys(g).length) body.generationConfig = g;
  if (req.tools?.length) {
    body.tools = [{ functionDeclarations: req.tools.map((t) => ({ name: t.name, ...(t.description != null ? { description: t.description } : {}), parametersJsonSchema: t.parameters })) }];
  }
  const tc = req.toolChoice;
  if (tc) {
    if (tc.type === 'tool') body.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [tc.name] } };
    else body.toolConfig = { functionCallingConfig: { mode: tc.type === 'required' ? 'ANY' : tc.type === 'none' ? 'NONE' : 'AUTO' } };
  }
  return body;
}
