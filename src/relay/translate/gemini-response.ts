// Gemini generateContent responses (and usageMetadata and finish reasons) ⇄ the intermediate form.
import type { GeminiFinishReason, GeminiGenerateContentResponse, GeminiPart, GeminiUsageMetadata } from '../protocols/gemini.ts';
import type { ChatResponse, Part, StopReason, Usage } from './ir.ts';
import { arr, isObject, nonZero, newId, obj, optArr, optStr, parseArguments, readCounts, str, asText } from './util.ts';

const optObj = (v: unknown, at: string) => (v == null ? undefined : obj(v, at));

/** Gemini's candidatesTokenCount excludes thoughts; the common Usage's output includes reasoning. */
export function decodeGeminiUsage(u: GeminiUsageMetadata | null | undefined): Usage | undefined {
  if (!isObject(u)) return undefined;
  return readCounts((count) => {
    const thoughts = count(u.thoughtsTokenCount);
    return {
      inputTokens: count(u.promptTokenCount) + count(u.toolUsePromptTokenCount),
      outputTokens: count(u.candidatesTokenCount) + thoughts,
      cachedInputTokens: count(u.cachedContentTokenCount),
      cacheWriteTokens: 0,
      reasoningTokens: thoughts,
      ...nonZero({
        audioInputTokens: modality(u.promptTokensDetails, 'AUDIO', count),
        imageInputTokens: modality(u.promptTokensDetails, 'IMAGE', count),
        audioOutputTokens: modality(u.candidatesTokensDetails, 'AUDIO', count),
        imageOutputTokens: modality(u.candidatesTokensDetails, 'IMAGE', count),
      }),
    };
  });
}

/** Tokens of one modality in a Gemini `…TokensDetails` list ([{modality, tokenCount}]). */
function modality(details: unknown, which: 'AUDIO' | 'IMAGE', count: (v: unknown) => number): number {
  if (!Array.isArray(details)) return 0;
  return details.reduce((n: number, d) => n + (isObject(d) && d.modality === which ? count(d.tokenCount) : 0), 0);
}

export function encodeGeminiUsage(u: Usage): GeminiUsageMetadata {
  return {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: Math.max(0, u.outputTokens - u.reasoningTokens),
    totalTokenCount: u.inputTokens + u.outputTokens,
    ...(u.cachedInputTokens ? { cachedContentTokenCount: u.cachedInputTokens } : {}),
    ...(u.reasoningTokens ? { thoughtsTokenCount: u.reasoningTokens } : {}),
  };
}

/** Gemini says STOP after function calls too; `sawToolCall` makes that `tool_use`. */
export function decodeGeminiFinish(f: string | undefined, sawToolCall: boolean): StopReason {
  switch (f) {
    case 'STOP':
      return sawToolCall ? 'tool_use' : 'end_turn';
    case 'MAX_TOKENS':
      return 'max_tokens';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
    case 'TOO_MANY_TOOL_CALLS':
      return 'malformed_tool_call';
    default:
      return sawToolCall ? 'tool_use' : 'other';
  }
}

export function encodeGeminiFinish(r: StopReason): GeminiFinishReason {
  switch (r) {
    case 'max_tokens':
    case 'context_window':
      return 'MAX_TOKENS';
    case 'content_filter':
    case 'refusal':
      return 'SAFETY';
    case 'malformed_tool_call':
      return 'MALFORMED_FUNCTION_CALL';
    case 'other':
      return 'OTHER';
    default:
      return 'STOP';
  }
}

/** One Gemini part → intermediate parts (ids made up when Gemini sent none). */
export function decodeGeminiPart(raw: GeminiPart, at = 'parts'): Part[] {
  const p = obj(raw, at);
  const signature = optStr(p.thoughtSignature, `${at}.thoughtSignature`);
  if (p.functionCall != null) {
    const fc = obj(p.functionCall, `${at}.functionCall`);
    const args = fc.args == null ? {} : obj(fc.args, `${at}.functionCall.args`);
    return [{ type: 'tool_call', id: optStr(fc.id, `${at}.functionCall.id`) ?? newId('call_'), name: str(fc.name, `${at}.functionCall.name`), arguments: JSON.stringify(args), ...(signature ? { signature } : {}) }];
  }
  if (typeof p.text === 'string' && p.text !== '') {
    return p.thought === true ? [{ type: 'thinking', text: p.text, ...(signature ? { signature } : {}) }] : [{ type: 'text', text: p.text }];
  }
  return []; // empty text, a bare signature, code execution: nothing a caller of another protocol can use
}

/** Adjacent text (or thought) parts joined: Gemini may split one answer over several parts. */
function joinAdjacent(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (last && ((last.type === 'text' && p.type === 'text') || (last.type === 'thinking' && p.type === 'thinking' && !last.signature))) {
      out[out.length - 1] = { ...last, text: last.text + p.text, ...(p.type === 'thinking' && p.signature ? { signature: p.signature } : {}) } as Part;
    } else out.push(p);
  }
  return out;
}

export function decodeGeminiResponse(body: GeminiGenerateContentResponse, model: string): ChatResponse {
  obj(body, 'body');
  const candidate = body.candidates == null ? undefined : optObj(arr(body.candidates, 'candidates')[0], 'candidates[0]');
  const content = candidate?.content == null ? undefined : obj(candidate.content, 'candidates[0].content');
  const parts = joinAdjacent(optArr(content?.parts, 'candidates[0].content.parts').flatMap((p, j) => decodeGeminiPart(p as GeminiPart, `candidates[0].content.parts[${j}]`)));
  const usage = decodeGeminiUsage(body.usageMetadata);
  const blocked = !candidate && isObject(body.promptFeedback) && body.promptFeedback.blockReason != null;
  return {
    id: asText(body.responseId ?? newId('gen-')),
    model: asText(body.modelVersion ?? model),
    parts,
    stopReason: blocked ? 'content_filter' : decodeGeminiFinish(typeof candidate?.finishReason === 'string' ? candidate.finishReason : undefined, parts.some((p) => p.type === 'tool_call')),
    ...(usage ? { usage } : {}),
  };
}

export function encodeGeminiParts(parts: Part[]): GeminiPart[] {
  return parts.flatMap((p, i): GeminiPart[] => {
    switch (p.type) {
      case 'text':
        return p.text ? [{ text: p.text }] : [];
      case 'thinking':
        return [{ text: p.text, thought: true }];
      case 'tool_call':
        return [{ functionCall: { id: p.id, name: p.name, args: parseArguments(p.arguments, `tool_calls[${i}].function.arguments`) } }];
      default:
        return [];
    }
  });
}

export function encodeGeminiResponse(res: ChatResponse): GeminiGenerateContentResponse {
  return {
    candidates: [{ content: { role: 'model', parts: encodeGeminiParts(res.parts) }, finishReason: encodeGeminiFinish(res.stopReason), index: 0 }],
    ...(res.usage ? { usageMetadata: encodeGeminiUsage(res.usage) } : {}),
    modelVersion: res.model,
    responseId: res.id,
  };
}
