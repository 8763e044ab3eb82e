// Meters an OpenAI stream other than chat and legacy completions (those two share chat's tap),
// forwarded to the caller as it is: Responses (`response.*` events), image generation
// (`image_generation.*`), speech (`speech.audio.*`) and transcription (`transcript.text.*`) events.
// It only reads: the usage the provider put in its last event, the generated text (for a count when
// there is none), and whether the stream reached its terminal event.
import type { EventSourceMessage } from 'eventsource-parser';
import { readSurfaceUsage } from './surface-usage.ts';
import type { StreamEvent } from './translate/ir.ts';
import type { StreamDecoder } from './translate/stream.ts';
import { asText, isObject } from './translate/util.ts';

/** Events that end a stream whose answer is complete (their usage, if any, is the final count). */
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'image_generation.completed', 'image_edit.completed', 'speech.audio.done', 'transcript.text.done']);
/** Events whose `delta` is generated text. */
const TEXT_DELTAS = new Set(['response.output_text.delta', 'response.function_call_arguments.delta', 'response.reasoning_summary_text.delta', 'response.reasoning_text.delta', 'response.refusal.delta', 'transcript.text.delta']);

export class SurfaceStreamDecoder implements StreamDecoder {
  private started = false;
  /** Why the provider's usage was refused, for the log; null when none was. */
  invalidUsage: string | null = null;

  event(e: EventSourceMessage): StreamEvent[] {
    if (e.data === '[DONE]') return [{ type: 'done' }]; // OpenAI-compatible vendors may end any stream so
    let data: unknown;
    try {
      data = JSON.parse(e.data);
    } catch {
      return []; // not ours to judge: forwarded as it is
    }
    if (!isObject(data)) return [];
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: '', model: '' });
    }
    const type = typeof data.type === 'string' ? data.type : e.event ?? '';
    if (type === 'error' || type === 'response.failed' || (isObject(data.error) && !type.startsWith('response.'))) {
      const err = isObject(data.error) ? data.error : isObject(data.response) && isObject(data.response.error) ? data.response.error : data;
      const usage = isObject(data.response) ? data.response.usage : data.usage;
      if (usage != null) out.push(this.usageOf(usage));
      out.push({ type: 'error', message: asText(err.message ?? 'upstream error') });
      return out;
    }
    if (TEXT_DELTAS.has(type) && typeof data.delta === 'string') out.push({ type: 'text', text: data.delta });
    const usage = isObject(data.response) ? data.response.usage : data.usage;
    if (usage != null) out.push(this.usageOf(usage));
    if (TERMINAL.has(type)) out.push({ type: 'done' });
    return out;
  }

  private usageOf(u: unknown): StreamEvent {
    const r = readSurfaceUsage(u);
    if (r.kind === 'invalid') this.invalidUsage = r.reason;
    return { type: 'usage', usage: r.kind === 'usage' ? r.usage : undefined };
  }

  end(): StreamEvent[] {
    return [];
  }
}
