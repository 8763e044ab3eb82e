// Anthropic Messages streaming events ⇄ intermediate stream events. The encoder emits the events
// exactly as Anthropic does: message_start, ping, content_block_start/delta/stop per block,
// message_delta (stop reason + cumulative usage), message_stop.
import type { EventSourceMessage } from 'eventsource-parser';
import type { AnthropicStreamEvent, AnthropicUsage } from '../protocols/anthropic.ts';
import { TranslationError } from './errors.ts';
import type { StopReason, StreamEvent, Usage } from './ir.ts';
import { decodeAnthropicStop, decodeAnthropicUsage, encodeAnthropicStop, encodeAnthropicUsage } from './anthropic-response.ts';
import type { StreamDecoder, StreamEncoder } from './stream.ts';
import { isObject, newId, sseEvent, asText } from './util.ts';

export class AnthropicStreamDecoder implements StreamDecoder {
  /** Anthropic block index → tool call index among this message's tool calls. */
  private readonly toolOfBlock = new Map<number, number>();
  private tools = 0;
  private usage: Partial<AnthropicUsage> = {};

  event(e: EventSourceMessage): StreamEvent[] {
    let ev: AnthropicStreamEvent;
    try {
      ev = JSON.parse(e.data);
    } catch {
      throw new TranslationError('data', `an upstream '${e.event ?? 'message'}' event is not valid JSON`);
    }
    if (!isObject(ev)) throw new TranslationError('data', 'an upstream event is not a JSON object');
    switch (ev.type) {
      case 'message_start': {
        const m = ev.message;
        this.usage = { ...(isObject(m?.usage) ? m.usage : {}) };
        const usage = decodeAnthropicUsage(this.usage);
        return [{ type: 'start', id: asText(m?.id ?? newId('msg_')), model: asText(m?.model ?? ''), ...(usage ? { usage } : {}) }];
      }
      case 'content_block_start': {
        const b = ev.content_block;
        if (b.type === 'tool_use') {
          const index = this.tools++;
          this.toolOfBlock.set(ev.index, index);
          const u = b as { id: string; name: string; input?: unknown };
          const initial = isObject(u.input) && Object.keys(u.input).length > 0 ? [{ type: 'tool_call_delta' as const, index, arguments: JSON.stringify(u.input) }] : [];
          return [{ type: 'tool_call_start', index, id: u.id, name: u.name }, ...initial];
        }
        if (b.type === 'text') return (b as { text?: string }).text ? [{ type: 'text', text: (b as { text: string }).text }] : [];
        if (b.type === 'thinking') return (b as { thinking?: string }).thinking ? [{ type: 'thinking', text: (b as { thinking: string }).thinking }] : [];
        if (b.type === 'redacted_thinking') return [{ type: 'redacted_thinking', data: asText((b as { data?: unknown }).data ?? '') }];
        throw new TranslationError(`content_block.type`, `the upstream sent a '${b.type}' block, which has no equivalent in the caller's protocol`);
      }
      case 'content_block_delta': {
        const d = ev.delta;
        if (d.type === 'text_delta') return d.text ? [{ type: 'text', text: d.text }] : [];
        if (d.type === 'input_json_delta') {
          const index = this.toolOfBlock.get(ev.index);
          if (index === undefined) throw new TranslationError('delta', 'input_json_delta outside a tool_use block');
          return d.partial_json ? [{ type: 'tool_call_delta', index, arguments: d.partial_json }] : [];
        }
        if (d.type === 'thinking_delta') return d.thinking ? [{ type: 'thinking', text: d.thinking }] : [];
        if (d.type === 'signature_delta') return [{ type: 'thinking_signature', signature: d.signature }];
        return []; // citations_delta: no equivalent, the text itself carries on
      }
      case 'message_delta': {
        this.usage = { ...this.usage, ...Object.fromEntries(Object.entries(ev.usage ?? {}).filter(([, v]) => v != null)) };
        const usage = decodeAnthropicUsage(this.usage);
        return [
          { type: 'finish', stopReason: decodeAnthropicStop(ev.delta?.stop_reason), ...(ev.delta?.stop_sequence ? { stopSequence: ev.delta.stop_sequence } : {}) },
          { type: 'usage' as const, usage },
        ];
      }
      case 'message_stop':
        return [{ type: 'done' }];
      case 'error':
        return [{ type: 'error', message: asText(ev.error?.message ?? 'upstream error'), ...(ev.error?.type ? { errorType: ev.error.type } : {}) }];
      default:
        return []; // ping, content_block_stop and future event types carry nothing to translate
    }
  }

  end(): StreamEvent[] {
    return []; // complete only with message_stop
  }
}

type OpenBlock = { kind: 'text' | 'thinking' | 'tool'; index: number; tool?: number };

export interface AnthropicEncoderOptions {
  /** Model name to report (the caller's), when the upstream's should not show. */
  model?: string;
}

export class AnthropicStreamEncoder implements StreamEncoder {
  private started = false;
  private block: OpenBlock | undefined;
  private nextIndex = 0;
  private readonly closedTools = new Set<number>();
  private stop: StopReason | undefined;
  private stopSequence: string | undefined;
  private usage: Usage | undefined;

  constructor(private readonly opts: AnthropicEncoderOptions = {}) {}

  private emit(ev: AnthropicStreamEvent): string {
    return sseEvent(ev.type, JSON.stringify(ev));
  }

  private start(id: string, model: string): string {
    if (this.started) return '';
    this.started = true;
    const usage = encodeAnthropicUsage(this.usage ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
    const message = { id, type: 'message' as const, role: 'assistant' as const, model: this.opts.model ?? model, content: [], stop_reason: null, stop_sequence: null, usage };
    return this.emit({ type: 'message_start', message }) + this.emit({ type: 'ping' });
  }

  private closeBlock(): string {
    if (!this.block) return '';
    const index = this.block.index;
    if (this.block.tool !== undefined) this.closedTools.add(this.block.tool);
    this.block = undefined;
    return this.emit({ type: 'content_block_stop', index });
  }

  private open(kind: 'text' | 'thinking'): string {
    if (this.block?.kind === kind) return '';
    const text = this.closeBlock();
    const index = this.nextIndex++;
    this.block = { kind, index };
    const content_block = kind === 'text' ? { type: 'text' as const, text: '' } : { type: 'thinking' as const, thinking: '', signature: '' };
    return text + this.emit({ type: 'content_block_start', index, content_block });
  }

  encode(e: StreamEvent): string {
    const pre = this.started || e.type === 'start' || e.type === 'error' ? '' : this.start(newId('msg_'), '');
    switch (e.type) {
      case 'start':
        if (e.usage) this.usage = e.usage;
        return this.start(e.id, e.model);
      case 'text':
        return pre + this.open('text') + this.emit({ type: 'content_block_delta', index: this.block!.index, delta: { type: 'text_delta', text: e.text } });
      case 'thinking':
        return pre + this.open('thinking') + this.emit({ type: 'content_block_delta', index: this.block!.index, delta: { type: 'thinking_delta', thinking: e.text } });
      case 'thinking_signature':
        return pre + this.open('thinking') + this.emit({ type: 'content_block_delta', index: this.block!.index, delta: { type: 'signature_delta', signature: e.signature } });
      case 'redacted_thinking': {
        const index = this.nextIndex++;
        return pre + this.closeBlock() + this.emit({ type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: e.data } }) + this.emit({ type: 'content_block_stop', index });
      }
      case 'tool_call_start': {
        const text = pre + this.closeBlock();
        const index = this.nextIndex++;
        this.block = { kind: 'tool', index, tool: e.index };
        return text + this.emit({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: e.id, name: e.name, input: {} } });
      }
      case 'tool_call_delta':
        if (this.block?.tool !== e.index) {
          // Anthropic blocks cannot interleave: arguments for a tool call whose block is closed cannot be sent.
          throw new TranslationError('tool_calls', this.closedTools.has(e.index) ? 'the upstream interleaved the arguments of parallel tool calls' : 'arguments for a tool call that never started');
        }
        return pre + this.emit({ type: 'content_block_delta', index: this.block.index, delta: { type: 'input_json_delta', partial_json: e.arguments } });
      case 'finish':
        this.stop = e.stopReason;
        this.stopSequence = e.stopSequence;
        return pre + this.closeBlock();
      case 'usage':
        this.usage = e.usage;
        return pre;
      case 'done': {
        const usage = encodeAnthropicUsage(this.usage ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
        return (
          pre +
          this.closeBlock() +
          this.emit({ type: 'message_delta', delta: { stop_reason: encodeAnthropicStop(this.stop ?? 'end_turn'), stop_sequence: this.stopSequence ?? null }, usage }) +
          this.emit({ type: 'message_stop' })
        );
      }
      case 'error':
        return this.emit({ type: 'error', error: { type: anthropicErrorType(e.errorType), message: e.message } });
    }
  }
}

/** Anthropic's error types; an upstream's own type passes when it is one of them. */
function anthropicErrorType(t: string | undefined): string {
  if (t === 'insufficient_quota') return 'billing_error'; // the spend ceiling ended the stream
  const known = ['invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'rate_limit_error', 'api_error', 'overloaded_error'];
  return t && known.includes(t) ? t : 'api_error';
}
