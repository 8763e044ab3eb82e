// Gemini generateContent requests ⇄ the intermediate form. The model and streaming come from the
// URL (`/v1beta/models/{model}:streamGenerateContent`), not the body.
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart } from '../protocols/gemini.ts';
import { unsupported } from './errors.ts';
import { fieldOf } from './fields.ts';
import type { ChatRequest, ImagePart, Message, Part, TextPart, ToolDef } from './ir.ts';
import { arr, imageTypeOfUrl, isObject, obj, optArr, optInt, optNum, optStr, optStrArr, parseArguments, str } from './util.ts';

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

function mediaPart(p: Record<string, unknown>, at: string): ImagePart {
  if (p.inlineData != null) {
    const d = obj(p.inlineData, `${at}.inlineData`);
    const mimeType = str(d.mimeType, `${at}.inlineData.mimeType`);
    if (!mimeType.startsWith('image/')) unsupported(`${at}.inlineData.mimeType`, `'${mimeType}' data has no equivalent at this provider (images only)`);
    return { type: 'image', source: { kind: 'base64', mediaType: mimeType, data: str(d.data, `${at}.inlineData.data`) }, at };
  }
  const f = obj(p.fileData, `${at}.fileData`);
  const uri = str(f.fileUri, `${at}.fileData.fileUri`);
  if (!/^https?:\/\//i.test(uri)) unsupported(`${at}.fileData.fileUri`, 'only public http(s) image URLs can be passed to this provider (Gemini file and gs:// URIs cannot)');
  const mimeType = optStr(f.mimeType, `${at}.fileData.mimeType`);
  if (mimeType && !mimeType.startsWith('image/')) unsupported(`${at}.fileData.mimeType`, `'${mimeType}' files have no equivalent at this provider (images only)`);
  return { type: 'image', source: { kind: 'url', url: uri }, at };
}

/** Matches Gemini's functionCall / functionResponse pairs, making up ids where Gemini sent none. */
class CallLedger {
  private made = 0;
  private readonly unanswered: Array<{ id: string; name: string }> = [];

  call(id: string | undefined, name: string): string {
    const callId = id ?? `call_${++this.made}`;
    this.unanswered.push({ id: callId, name });
    return callId;
  }

  /** The call a response answers: by id when it has one, else the oldest unanswered of that name. */
  answer(id: string | undefined, name: string, at: string): string {
    const k = this.unanswered.findIndex((u) => (id ? u.id === id : u.name === name));
    if (k < 0) unsupported(`${at}.functionResponse`, 'answers no functionCall of an earlier model turn');
    return this.unanswered.splice(k, 1)[0]!.id;
  }
}

function decodePart(raw: unknown, at: string, calls: CallLedger): Part[] {
  const p = obj(raw, at);
  const signature = optStr(p.thoughtSignature, `${at}.thoughtSignature`);
  if (p.functionCall != null) {
    const fc = obj(p.functionCall, `${at}.functionCall`);
    const name = str(fc.name, `${at}.functionCall.name`);
    const id = calls.call(optStr(fc.id, `${at}.functionCall.id`), name);
    const args = fc.args == null ? {} : obj(fc.args, `${at}.functionCall.args`);
    return [{ type: 'tool_call', id, name, arguments: JSON.stringify(args), ...(signature && signature !== SKIP_THOUGHT_SIGNATURE ? { signature } : {}), at }];
  }
  if (p.functionResponse != null) {
    const fr = obj(p.functionResponse, `${at}.functionResponse`);
    const name = str(fr.name, `${at}.functionResponse.name`);
    const toolCallId = calls.answer(optStr(fr.id, `${at}.functionResponse.id`), name, at);
    const { text, isError } = responseText(fr.response);
    return [{ type: 'tool_result', toolCallId, name, content: [{ type: 'text', text }], isError, at }];
  }
  if (typeof p.text === 'string') {
    if (p.thought === true) return [{ type: 'thinking', text: p.text, ...(signature ? { signature } : {}), at }];
    return p.text === '' ? [] : [{ type: 'text', text: p.text, at }];
  }
  if (p.inlineData != null || p.fileData != null) return [mediaPart(p, at)];
  return unsupported(at, `part '${Object.keys(p).join(',')}' has no equivalent at this provider`);
}

function decodeGenerationConfig(raw: unknown, req: ChatRequest): void {
  const at = 'generationConfig';
  const g = obj(raw, at);
  if (g.candidateCount != null && g.candidateCount !== 1) unsupported(`${at}.candidateCount`, 'several candidates can only be served by a Gemini channel');
  if (g.responseLogprobs === true) unsupported(`${at}.responseLogprobs`, 'log probabilities can only be served by a Gemini channel');
  if (optStrArr(g.responseModalities, `${at}.responseModalities`)?.some((m) => m.toUpperCase() !== 'TEXT')) unsupported(`${at}.responseModalities`, 'only text output can be translated');
  const max = optInt(g.maxOutputTokens, `${at}.maxOutputTokens`);
  if (max != null) req.maxOutputTokens = max;
  const temperature = optNum(g.temperature, `${at}.temperature`);
  if (temperature != null) req.temperature = temperature;
  const topP = optNum(g.topP, `${at}.topP`);
  if (topP != null) req.topP = topP;
  const topK = optInt(g.topK, `${at}.topK`);
  if (topK != null) req.topK = topK;
  const stop = optStrArr(g.stopSequences, `${at}.stopSequences`);
  if (stop?.length) req.stop = stop;
  const presence = optNum(g.presencePenalty, `${at}.presencePenalty`);
  if (presence) req.presencePenalty = presence;
  const frequency = optNum(g.frequencyPenalty, `${at}.frequencyPenalty`);
  if (frequency) req.frequencyPenalty = frequency;
  const seed = optInt(g.seed, `${at}.seed`);
  if (seed != null) req.seed = seed;
  const mime = optStr(g.responseMimeType, `${at}.responseMimeType`);
  if (mime === 'application/json') {
    const schema = g.responseJsonSchema ?? (g.responseSchema != null ? openApiToJsonSchema(g.responseSchema) : undefined);
    req.responseFormat = isObject(schema) ? { type: 'json_schema', name: 'response', schema } : { type: 'json' };
  } else if (mime != null && mime !== 'text/plain') {
    unsupported(`${at}.responseMimeType`, `'${mime}' cannot be translated`);
  }
  if (g.thinkingConfig != null) {
    const th = obj(g.thinkingConfig, `${at}.thinkingConfig`);
    const budget = optInt(th.thinkingBudget, `${at}.thinkingConfig.thinkingBudget`);
    const level = optStr(th.thinkingLevel, `${at}.thinkingConfig.thinkingLevel`)?.toLowerCase();
    if (budget === 0) req.thinking = { enabled: false };
    else if (budget != null && budget > 0) req.thinking = { enabled: true, budgetTokens: budget };
    else if (level && Object.hasOwn(LEVEL_EFFORT, level)) req.thinking = { enabled: true, effort: LEVEL_EFFORT[level as keyof typeof LEVEL_EFFORT] };
    else if (budget === -1 || th.includeThoughts === true) req.thinking = { enabled: true };
  }
}

function decodeTools(raw: unknown): ToolDef[] {
  const tools: ToolDef[] = [];
  arr(raw, 'tools').forEach((rt, i) => {
    const t = obj(rt, `tools[${i}]`);
    const other = Object.keys(t).filter((k) => k !== 'functionDeclarations');
    if (other.length) unsupported(`tools[${i}].${other[0]}`, 'Gemini built-in tools run at Gemini only');
    optArr(t.functionDeclarations, `tools[${i}].functionDeclarations`).forEach((rf, j) => {
      const at = `tools[${i}].functionDeclarations[${j}]`;
      const f = obj(rf, at);
      const parameters = f.parametersJsonSchema != null ? obj(f.parametersJsonSchema, `${at}.parametersJsonSchema`) : f.parameters != null ? obj(openApiToJsonSchema(obj(f.parameters, `${at}.parameters`)), `${at}.parameters`) : { type: 'object', properties: {} };
      const description = optStr(f.description, `${at}.description`);
      tools.push({ name: str(f.name, `${at}.name`), ...(description != null ? { description } : {}), parameters, at });
    });
  });
  return tools;
}

function decodeToolConfig(raw: unknown, req: ChatRequest, toolCount: number): void {
  const at = 'toolConfig.functionCallingConfig';
  const fc = isObject(raw) && raw.functionCallingConfig != null ? obj(raw.functionCallingConfig, at) : undefined;
  if (!fc) return;
  if (fc.mode === 'AUTO') req.toolChoice = { type: 'auto' };
  else if (fc.mode === 'NONE') req.toolChoice = { type: 'none' };
  else if (fc.mode === 'ANY') {
    const names = optStrArr(fc.allowedFunctionNames, `${at}.allowedFunctionNames`) ?? [];
    if (names.length === 1) req.toolChoice = { type: 'tool', name: names[0]! };
    else if (names.length > 1 && names.length < toolCount) unsupported(`${at}.allowedFunctionNames`, 'a required subset of several functions cannot be expressed at this provider');
    else req.toolChoice = { type: 'required' };
  } else if (fc.mode === 'VALIDATED') unsupported(`${at}.mode`, 'VALIDATED exists at Gemini only');
}

export function decodeGeminiRequest(body: GeminiGenerateContentRequest, model: string, stream: boolean): ChatRequest {
  obj(body, 'body');
  if (body.cachedContent != null) unsupported('cachedContent', 'Gemini context caches exist at Gemini only');
  const si = body.systemInstruction == null ? undefined : obj(body.systemInstruction, 'systemInstruction');
  const system: TextPart[] = optArr(si?.parts, 'systemInstruction.parts').map((p, i) => ({
    type: 'text',
    text: str(obj(p, `systemInstruction.parts[${i}]`).text, `systemInstruction.parts[${i}].text`),
    at: `systemInstruction.parts[${i}]`,
  }));
  const calls = new CallLedger();
  const messages = arr(body.contents, 'contents').map((raw, i): Message => {
    const at = `contents[${i}]`;
    const c = obj(raw, at);
    const parts = arr(c.parts, `${at}.parts`).flatMap((p, j) => decodePart(p, `${at}.parts[${j}]`, calls));
    return { role: c.role === 'model' ? 'assistant' : 'user', parts, at };
  });
  const req: ChatRequest = { source: 'gemini', model, system, messages, stream };
  if (body.generationConfig != null) decodeGenerationConfig(body.generationConfig, req);
  const tools = body.tools == null ? [] : decodeTools(body.tools);
  if (tools.length) req.tools = tools;
  decodeToolConfig(body.toolConfig, req, tools.length);
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
