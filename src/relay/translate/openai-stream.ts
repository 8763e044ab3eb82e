// OpenAI chat completion chunks (`data: {chunk}` … `data: [DONE]`) ⇄ intermediate stream events.
import type { EventSourceMessage } from 'eventsource-parser';
import type { OpenAIChatChunk } from '../protocols/openai.ts';
import { TranslationError } from './errors.ts';
import type { StopReason, StreamEvent, Usage } from './ir.ts';
import { decodeOpenAIFinish, decodeOpenAIUsage, encodeOpenAIFinish, encodeOpenAIUsage } from './openai-response.ts';
import type { StreamDecoder, StreamEncoder } from './stream.ts';
import { isObject, newId, sse, asText } from './util.ts';

export class OpenAIStreamDecoder implements StreamDecoder {
  private started = false;
  private readonly tools = new Set<number>();
  private finished = false;

  event(e: EventSourceMessage): StreamEvent[] {
    if (e.data === '[DONE]') return [{ type: 'done' }];
    let chunk: OpenAIChatChunk & { error?: { message?: string; type?: string } };
    try {
      chunk = JSON.parse(e.data);
    } catch {
      throw new TranslationError('data', 'an upstream chunk is not valid JSON');
    }
    if (!isObject(chunk)) throw new TranslationError('data', 'an upstream chunk is not a JSON object');
    if (isObject(chunk.error)) return [{ type: 'error', message: asText(chunk.error.message ?? 'upstream error'), ...(chunk.error.type ? { errorType: asText(chunk.error.type) } : {}) }];
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: asText(chunk.id ?? newId('chatcmpl-')), model: asText(chunk.model ?? ''), ...(typeof chunk.created === 'number' ? { created: chunk.created } : {}) });
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c) => c.index === 0 || c.index === undefined) : undefined;
    const delta = choice?.delta;
    if (isObject(delta)) {
      if (typeof delta.reasoning_content === 'string' && delta.reasoning_content) out.push({ type: 'thinking', text: delta.reasoning_content });
      if (typeof delta.content === 'string' && delta.content) out.push({ type: 'text', text: delta.content });
      if (typeof delta.refusal === 'string' && delta.refusal) out.push({ type: 'text', text: delta.refusal });
      for (const tc of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        const index = typeof tc.index === 'number' ? tc.index : 0;
        if (!this.tools.has(index)) {
          if (typeof tc.id !== 'string' || typeof tc.function?.name !== 'string') throw new TranslationError('tool_calls', 'a tool call started without an id and a name');
          this.tools.add(index);
          out.push({ type: 'tool_call_start', index, id: tc.id, name: tc.function.name });
        }
        if (typeof tc.function?.arguments === 'string' && tc.function.arguments) out.push({ type: 'tool_call_delta', index, arguments: tc.function.arguments });
      }
    }
    if (choice?.finish_reason && !this.finished) {
      this.finished = true;
      out.push({ type: 'finish', stopReason: decodeOpenAIFinish(choice.finish_reason) });
    }
    if (isObject(chunk.usage)) out.push({ type: 'usage', usage: decodeOpenAIUsage(chunk.usage) });
    return out;
  }

  end(): StreamEvent[] {
    return []; // an OpenAI stream is complete only with [DONE]
  }
}

export interface OpenAIEncoderOptions {
  /** The caller asked for `stream_options.include_usage`: send the usage-only chunk before [DONE]. */
  includeUsage: boolean;
  /** Model name to report (the caller's), when the upstream's should not show. */
  model?: string;
}

export class OpenAIStreamEncoder implements StreamEncoder {
  private id = newId('chatcmpl-');
  private model: string;
  private created = Math.floor(Date.now() / 1000);
  private started = false;
  private finish: StopReason | undefined;
  private usage: Usage | undefined;

  constructor(private readonly opts: OpenAIEncoderOptions) {
    this.model = opts.model ?? '';
  }

  private chunk(delta: Record<string, unknown>, finish: string | null = null): string {
    const c: OpenAIChatChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish as OpenAIChatChunk['choices'][number]['finish_reason'] }],
    };
    if (this.opts.includeUsage) c.usage = null;
    return sse(JSON.stringify(c));
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    return this.chunk({ role: 'assistant', content: '' });
  }

  encode(e: StreamEvent): string {
    switch (e.type) {
      case 'start':
        this.id = e.id;
        if (!this.opts.model) this.model = e.model;
        if (e.created) this.created = e.created;
        if (e.usage) this.usage = e.usage;
        return this.ensureStarted();
      case 'text':
        return this.ensureStarted() + this.chunk({ content: e.text });
      case 'thinking':
        return this.ensureStarted() + this.chunk({ reasoning_content: e.text });
      case 'tool_call_start':
        return this.ensureStarted() + this.chunk({ tool_calls: [{ index: e.index, id: e.id, type: 'function', function: { name: e.name, arguments: '' } }] });
      case 'tool_call_delta':
        return this.chunk({ tool_calls: [{ index: e.index, function: { arguments: e.arguments } }] });
      case 'finish':
        this.finish = e.stopReason;
        return this.ensureStarted() + this.chunk({}, encodeOpenAIFinish(e.stopReason));
      case 'usage':
        this.usage = e.usage;
        return '';
      case 'done': {
        let text = this.ensureStarted();
        if (this.finish === undefined) text += this.chunk({}, 'stop');
        if (this.opts.includeUsage && this.usage) {
          text += sse(JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: encodeOpenAIUsage(this.usage) }));
        }
        return text + sse('[DONE]');
      }
      case 'error':
        return sse(JSON.stringify({ error: { message: e.message, type: e.errorType ?? 'upstream_error', param: null, code: null } }));
      default:
        return ''; // signatures and redacted thinking have no place in OpenAI chunks
    }
  }
}
