import type { TokenUsage } from '../pricing/cost.ts';
import { chunkText, CompletionCounter, readOpenAIUsage } from './tokens.ts';

const EVENT_END = /\r?\n\r?\n/g;

/**
 * Sits in an OpenAI SSE stream: passes each complete event through unchanged, reads the usage event,
 * and keeps a running count of delivered text in case the provider never sends usage. Drops the
 * usage-only chunk when the caller did not ask for it (we ask upstream on its behalf).
 */
export class OpenAIStreamTap {
  usage: TokenUsage | null = null;
  readonly counter = new CompletionCounter();
  events = 0;
  private buf = '';
  private decoder = new TextDecoder();

  constructor(private readonly dropUsageChunk: boolean) {}

  /** Returns the text to forward now (whole events only; a partial event waits for its end). */
  push(chunk: Uint8Array): string {
    this.buf += this.decoder.decode(chunk, { stream: true });
    let out = '';
    let start = 0;
    EVENT_END.lastIndex = 0;
    for (let m = EVENT_END.exec(this.buf); m; m = EVENT_END.exec(this.buf)) {
      const end = m.index + m[0].length;
      const event = this.buf.slice(start, end);
      if (this.inspect(event.slice(0, m.index - start))) out += event;
      start = end;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** Whatever is left when the upstream ends without a final blank line. */
  flush(): string {
    const rest = this.buf + this.decoder.decode();
    this.buf = '';
    return rest && this.inspect(rest) ? rest : '';
  }

  /** Reads one event; returns whether to forward it. */
  private inspect(event: string): boolean {
    let data = '';
    for (const line of event.split(/\r?\n/)) {
      if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
    }
    if (!data || data === '[DONE]') return true;
    let json: any;
    try {
      json = JSON.parse(data);
    } catch {
      return true;
    }
    this.events++;
    const usage = readOpenAIUsage(json?.usage);
    if (usage) this.usage = usage;
    const text = chunkText(json);
    if (text) this.counter.add(text);
    const usageOnly = usage !== null && Array.isArray(json.choices) && json.choices.length === 0;
    return !(usageOnly && this.dropUsageChunk);
  }
}
