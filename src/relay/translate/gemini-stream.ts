// Gemini `?alt=sse` chunks (each a GenerateContentResponse with only the new parts; usageMetadata
// cumulative; no terminal event: the stream ends at EOF) ⇄ intermediate stream events.
import type { EventSourceMessage } from 'eventsource-parser';
import type { GeminiGenerateContentResponse, GeminiPart } from '../protocols/gemini.ts';
import { TranslationError } from './errors.ts';
import type { StopReason, StreamEvent, Usage } from './ir.ts';
import { decodeGeminiFinish, decodeGeminiPart, decodeGeminiUsage, encodeGeminiFinish, encodeGeminiUsage } from './gemini-response.ts';
import type { StreamDecoder, StreamEncoder } from './stream.ts';
import { isObject, newId, parseArguments, asText } from './util.ts';

export class GeminiStreamDecoder implements StreamDecoder {
  private started = false;
  private tools = 0;
  private finish: { reason: string | undefined; blocked: boolean } | undefined;

  constructor(private readonly model: string) {}

  event(e: EventSourceMessage): StreamEvent[] {
    let chunk: GeminiGenerateContentResponse & { error?: { message?: string; status?: string } };
    try {
      chunk = JSON.parse(e.data);
    } catch {
      throw new TranslationError('data', 'an upstream chunk is not valid JSON');
    }
    if (!isObject(chunk)) throw new TranslationError('data', 'an upstream chunk is not a JSON object');
    if (isObject(chunk.error)) return [{ type: 'error', message: asText(chunk.error.message ?? 'upstream error'), ...(chunk.error.status ? { errorType: asText(chunk.error.status) } : {}) }];
    const out: StreamEvent[] = [];
    const usage = isObject(chunk.usageMetadata) ? decodeGeminiUsage(chunk.usageMetadata) : undefined;
    if (!this.started) {
      this.started = true;
      // Gemini's first chunk already counts the prompt: an Anthropic caller sees it in message_start.
      out.push({ type: 'start', id: asText(chunk.responseId ?? newId('gen-')), model: asText(chunk.modelVersion ?? this.model), ...(usage ? { usage } : {}) });
    }
    const candidate = Array.isArray(chunk.candidates) ? chunk.candidates[0] : undefined;
    for (const p of candidate?.content?.parts ?? []) {
      for (const part of decodeGeminiPart(p)) {
        if (part.type === 'text') out.push({ type: 'text', text: part.text });
        else if (part.type === 'thinking') out.push({ type: 'thinking', text: part.text });
        else if (part.type === 'tool_call') {
          const index = this.tools++;
          out.push({ type: 'tool_call_start', index, id: part.id, name: part.name, ...(part.signature ? { signature: part.signature } : {}) });
          out.push({ type: 'tool_call_delta', index, arguments: part.arguments });
        }
      }
    }
    if (candidate?.finishReason) this.finish = { reason: candidate.finishReason, blocked: false };
    else if (!candidate && chunk.promptFeedback?.blockReason) this.finish = { reason: undefined, blocked: true };
    if (isObject(chunk.usageMetadata)) out.push({ type: 'usage', usage });
    return out;
  }

  end(): StreamEvent[] {
    if (!this.finish) return []; // no finishReason: the stream was cut
    const stopReason: StopReason = this.finish.blocked ? 'content_filter' : decodeGeminiFinish(this.finish.reason, this.tools > 0);
    return [{ type: 'finish', stopReason }, { type: 'done' }];
  }
}

export interface GeminiEncoderOptions {
  /** Model name to report (the caller's), when the upstream's should not show. */
  model?: string;
}

/** Gemini sends whole function calls, so argument deltas are collected until the call is complete. */
export class GeminiStreamEncoder implements StreamEncoder {
  private id = newId('gen-');
  private model: string;
  private tool: { id: string; name: string; args: string } | undefined;
  private stop: StopReason | undefined;
  private usage: Usage | undefined;

  constructor(opts: GeminiEncoderOptions = {}) {
    this.model = opts.model ?? '';
  }

  private chunk(parts: GeminiPart[], extra: Record<string, unknown> = {}): string {
    const body = { candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }], ...(this.usage ? { usageMetadata: encodeGeminiUsage(this.usage) } : {}), modelVersion: this.model, responseId: this.id };
    return `data: ${JSON.stringify(body)}\r\n\r\n`;
  }

  private flushTool(): string {
    const t = this.tool;
    if (!t) return '';
    this.tool = undefined;
    return this.chunk([{ functionCall: { id: t.id, name: t.name, args: parseArguments(t.args, 'tool_calls.function.arguments') } }]);
  }

  encode(e: StreamEvent): string {
    switch (e.type) {
      case 'start':
        this.id = e.id;
        if (!this.model) this.model = e.model;
        if (e.usage) this.usage = e.usage;
        return '';
      case 'text':
        return e.text ? this.flushTool() + this.chunk([{ text: e.text }]) : '';
      case 'thinking':
        return e.text ? this.flushTool() + this.chunk([{ text: e.text, thought: true }]) : '';
      case 'tool_call_start': {
        const text = this.flushTool();
        this.tool = { id: e.id, name: e.name, args: '' };
        return text;
      }
      case 'tool_call_delta':
        if (!this.tool) throw new TranslationError('tool_calls', 'the upstream interleaved the arguments of parallel tool calls');
        this.tool.args += e.arguments;
        return '';
      case 'finish':
        this.stop = e.stopReason;
        return this.flushTool();
      case 'usage':
        this.usage = e.usage;
        return '';
      case 'done':
        return this.flushTool() + this.chunk([{ text: '' }], { finishReason: encodeGeminiFinish(this.stop ?? 'end_turn') });
      case 'error': {
        const quota = e.errorType === 'insufficient_quota'; // the spend ceiling ended the stream
        const body = { error: { code: quota ? 429 : 500, message: e.message, status: quota ? 'RESOURCE_EXHAUSTED' : e.errorType && /^[A-Z_]+$/.test(e.errorType) ? e.errorType : 'INTERNAL' } };
        return `data: ${JSON.stringify(body)}\r\n\r\n`;
      }
      default:
        return '';
    }
  }
}
