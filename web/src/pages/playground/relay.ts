// The playground talks to the gateway's relay (/v1) like any client, with the user's own API key, so
// a playground call is authorised, routed and billed exactly like any other. Plain fetch, not the
// management client: a 401 here means a wrong key, not an ended session.
import type { Schemas } from '../../api/client.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** The relay's error message (OpenAI's shape), or the status line. */
async function relayError(res: Response): Promise<Error> {
  const body = (await res.json().catch(() => null)) as Schemas['OpenAIError'] | null;
  return new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
}

/** The models this key may call (GET /v1/models answers only those). */
export async function modelsForKey(key: string, signal?: AbortSignal): Promise<string[]> {
  const res = await fetch('/v1/models', { headers: { authorization: `Bearer ${key}` }, signal });
  if (!res.ok) throw await relayError(res);
  const list = (await res.json()) as Schemas['ModelList'];
  return list.data.map((m) => m.id).sort();
}

/**
 * Streams a chat completion: `onDelta` gets each piece of text as it arrives; resolves with the
 * provider's usage (asked for with stream_options.include_usage) once the stream ends.
 */
export async function streamChat(
  key: string,
  body: { model: string; messages: ChatMessage[]; max_tokens?: number },
  onDelta: (text: string) => void,
  signal: AbortSignal,
): Promise<Usage | null> {
  const request: Schemas['ChatCompletionRequest'] = { ...body, messages: body.messages.map((m) => ({ ...m })), stream: true, stream_options: { include_usage: true } };
  const res = await fetch('/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal,
  });
  if (!res.ok || !res.body) throw await relayError(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let usage: Usage | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // SSE events end with a blank line (LF or CRLF).
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop() ?? '';
    for (const event of events) {
      for (const line of event.split(/\r?\n/)) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return usage;
        const chunk = JSON.parse(data) as {
          choices?: { delta?: { content?: string | null } }[];
          usage?: { prompt_tokens: number; completion_tokens: number } | null;
          error?: { message?: string };
        };
        if (chunk.error) throw new Error(chunk.error.message ?? 'The stream ended with an error.');
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) onDelta(text);
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      }
    }
  }
  return usage;
}
