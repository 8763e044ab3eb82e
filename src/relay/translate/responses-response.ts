// The intermediate form → an OpenAI Responses API `response` object (non-streamed answers, and the
// snapshot the stream's response.created / response.completed events carry).
import type { ChatResponse, Part, StopReason, Usage } from './ir.ts';
import { newId } from './util.ts';

export function encodeResponsesUsage(u: Usage) {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

/** Why an answer stopped early, in the Responses API's words; null when it completed. */
export function incompleteReason(r: StopReason | undefined): string | null {
  if (r === 'max_tokens') return 'max_output_tokens';
  if (r === 'content_filter' || r === 'refusal') return 'content_filter';
  return null;
}

export type ResponsesItem = Record<string, unknown>;

/** One output item per run of parts: reasoning, an assistant message, each function call. */
export function encodeResponsesOutput(parts: Part[]): ResponsesItem[] {
  const items: ResponsesItem[] = [];
  let message: { content: Array<Record<string, unknown>> } | null = null;
  for (const p of parts) {
    if (p.type === 'text') {
      if (!message) {
        message = { content: [] };
        items.push({ type: 'message', id: newId('msg_'), status: 'completed', role: 'assistant', content: message.content });
      }
      message.content.push({ type: 'output_text', text: p.text, annotations: [], logprobs: [] });
      continue;
    }
    message = null;
    if (p.type === 'thinking') items.push({ type: 'reasoning', id: newId('rs_'), summary: [{ type: 'summary_text', text: p.text }] });
    else if (p.type === 'tool_call') items.push({ type: 'function_call', id: newId('fc_'), call_id: p.id, name: p.name, arguments: p.arguments, status: 'completed' });
    // redacted thinking and tool results have no place in a Responses answer
  }
  return items;
}

export interface ResponseShell {
  id: string;
  model: string;
  createdAt: number;
}

/** The `response` object with the given status, output and usage. */
export function responseObject(shell: ResponseShell, status: 'in_progress' | 'completed' | 'incomplete' | 'failed', output: ResponsesItem[], usage: Usage | undefined, stop?: StopReason) {
  const reason = status === 'incomplete' ? incompleteReason(stop) : null;
  return {
    id: shell.id,
    object: 'response',
    created_at: shell.createdAt,
    status,
    error: null,
    incomplete_details: reason ? { reason } : null,
    model: shell.model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: usage ? encodeResponsesUsage(usage) : null,
  };
}

export function encodeResponsesResponse(res: ChatResponse) {
  const shell = { id: res.id.startsWith('resp_') ? res.id : newId('resp_'), model: res.model, createdAt: res.created ?? Math.floor(Date.now() / 1000) };
  return responseObject(shell, incompleteReason(res.stopReason) ? 'incomplete' : 'completed', encodeResponsesOutput(res.parts), res.usage, res.stopReason);
}
