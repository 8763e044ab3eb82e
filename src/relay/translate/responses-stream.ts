// Intermediate stream events → the OpenAI Responses API's typed SSE events (`event: <type>` plus a
// `data` object carrying the same `type` and a `sequence_number`): response.created / in_progress,
// then per output item output_item.added … output_item.done (text as output_text deltas, function
// calls as function_call_arguments deltas, reasoning as summary text), and response.completed (or
// response.incomplete) with the whole response and its usage. An error is one `error` event.
import { TranslationError } from './errors.ts';
import type { StopReason, StreamEvent, Usage } from './ir.ts';
import { incompleteReason, responseObject, type ResponseShell, type ResponsesItem } from './responses-response.ts';
import type { StreamEncoder } from './stream.ts';
import { newId, sseEvent } from './util.ts';

interface OpenItem {
  kind: 'message' | 'reasoning' | 'function_call';
  index: number;
  item: ResponsesItem;
  text: string;
  /** The tool call's position in the intermediate stream (function calls only). */
  tool?: number;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private started = false;
  private readonly shell: ResponseShell;
  private open: OpenItem | undefined;
  private readonly output: ResponsesItem[] = [];
  private readonly closedTools = new Set<number>();
  private stop: StopReason | undefined;
  private usage: Usage | undefined;

  constructor(opts: { model?: string } = {}) {
    this.shell = { id: newId('resp_'), model: opts.model ?? '', createdAt: Math.floor(Date.now() / 1000) };
  }

  private emit(type: string, data: Record<string, unknown>): string {
    return sseEvent(type, JSON.stringify({ type, sequence_number: this.seq++, ...data }));
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const response = responseObject(this.shell, 'in_progress', [], undefined);
    return this.emit('response.created', { response }) + this.emit('response.in_progress', { response });
  }

  private close(): string {
    const o = this.open;
    if (!o) return '';
    this.open = undefined;
    const id = o.item.id;
    let text = '';
    if (o.kind === 'message') {
      const part = { type: 'output_text', text: o.text, annotations: [], logprobs: [] };
      text += this.emit('response.output_text.done', { item_id: id, output_index: o.index, content_index: 0, text: o.text, logprobs: [] });
      text += this.emit('response.content_part.done', { item_id: id, output_index: o.index, content_index: 0, part });
      o.item = { ...o.item, status: 'completed', content: [part] };
    } else if (o.kind === 'reasoning') {
      const part = { type: 'summary_text', text: o.text };
      text += this.emit('response.reasoning_summary_text.done', { item_id: id, output_index: o.index, summary_index: 0, text: o.text });
      text += this.emit('response.reasoning_summary_part.done', { item_id: id, output_index: o.index, summary_index: 0, part });
      o.item = { ...o.item, summary: [part] };
    } else {
      this.closedTools.add(o.tool!);
      text += this.emit('response.function_call_arguments.done', { item_id: id, output_index: o.index, arguments: o.text });
      o.item = { ...o.item, status: 'completed', arguments: o.text };
    }
    this.output[o.index] = o.item;
    return text + this.emit('response.output_item.done', { output_index: o.index, item: o.item });
  }

  private openItem(kind: OpenItem['kind'], item: ResponsesItem, tool?: number): string {
    const text = this.close();
    const index = this.output.length;
    this.output.push(item);
    this.open = { kind, index, item, text: '', ...(tool !== undefined ? { tool } : {}) };
    let out = text + this.emit('response.output_item.added', { output_index: index, item });
    if (kind === 'message') out += this.emit('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
    if (kind === 'reasoning') out += this.emit('response.reasoning_summary_part.added', { item_id: item.id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } });
    return out;
  }

  encode(e: StreamEvent): string {
    const pre = e.type === 'error' ? '' : this.start();
    switch (e.type) {
      case 'start':
        if (e.usage) this.usage = e.usage;
        return pre;
      case 'text': {
        const head = this.open?.kind === 'message' ? '' : this.openItem('message', { type: 'message', id: newId('msg_'), status: 'in_progress', role: 'assistant', content: [] });
        this.open!.text += e.text;
        return pre + head + this.emit('response.output_text.delta', { item_id: this.open!.item.id, output_index: this.open!.index, content_index: 0, delta: e.text, logprobs: [] });
      }
      case 'thinking': {
        const head = this.open?.kind === 'reasoning' ? '' : this.openItem('reasoning', { type: 'reasoning', id: newId('rs_'), summary: [] });
        this.open!.text += e.text;
        return pre + head + this.emit('response.reasoning_summary_text.delta', { item_id: this.open!.item.id, output_index: this.open!.index, summary_index: 0, delta: e.text });
      }
      case 'tool_call_start':
        return pre + this.openItem('function_call', { type: 'function_call', id: newId('fc_'), call_id: e.id, name: e.name, arguments: '', status: 'in_progress' }, e.index);
      case 'tool_call_delta':
        if (this.open?.tool !== e.index) {
          // Output items cannot interleave: arguments for a call whose item is closed cannot be sent.
          throw new TranslationError('tool_calls', this.closedTools.has(e.index) ? 'the upstream interleaved the arguments of parallel tool calls' : 'arguments for a tool call that never started');
        }
        this.open.text += e.arguments;
        return pre + this.emit('response.function_call_arguments.delta', { item_id: this.open.item.id, output_index: this.open.index, delta: e.arguments });
      case 'finish':
        this.stop = e.stopReason;
        return pre;
      case 'usage':
        this.usage = e.usage;
        return pre;
      case 'done': {
        const text = pre + this.close();
        const incomplete = incompleteReason(this.stop) !== null;
        const response = responseObject(this.shell, incomplete ? 'incomplete' : 'completed', this.output, this.usage, this.stop);
        return text + this.emit(incomplete ? 'response.incomplete' : 'response.completed', { response });
      }
      case 'error':
        return this.emit('error', { code: e.errorType ?? 'upstream_error', message: e.message, param: null });
      default:
        return pre; // signatures and redacted thinking have no place in a Responses stream
    }
  }
}
