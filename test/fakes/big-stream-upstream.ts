// A provider that streams a very long answer (OpenAI chat chunks or Anthropic text deltas of 4 KB)
// as fast as its socket takes it, waiting for 'drain' like a real server: `written` shows how far
// it got, so a test can tell whether a slow caller's backpressure reached it.
import { startFakeServer, type FakeServer, type RecordedRequest } from './fake-http.ts';

export const BIG_PIECE = 'a'.repeat(4096);

export interface BigStreamRequest extends RecordedRequest {
  /** Bytes handed to the socket so far. */
  written: number;
}

export interface FakeBigStream extends FakeServer<BigStreamRequest> {
  /** Total bytes of each answer. */
  totalBytes: number;
}

export async function startFakeBigStream(totalBytes: number): Promise<FakeBigStream> {
  const server = await startFakeServer<BigStreamRequest>(
    (base) => ({ ...base, written: 0 }),
    ({ req, res, rec }) => {
      const anthropic = rec.path.endsWith('/messages');
      const model = String(rec.body?.model ?? 'm');
      const ev = anthropic
        ? (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
        : (_type: string, data: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, ...data })}\n\n`;
      const delta = anthropic
        ? ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: BIG_PIECE } })
        : ev('', { choices: [{ index: 0, delta: { content: BIG_PIECE }, finish_reason: null }] });
      const head = anthropic
        ? ev('message_start', { message: { id: 'msg_big', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: 10, output_tokens: 1 } } }) +
          ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
        : '';
      const tail = anthropic
        ? ev('content_block_stop', { index: 0 }) + ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1000 } }) + ev('message_stop', {})
        : ev('', { choices: [], usage: { prompt_tokens: 10, completion_tokens: 1000, total_tokens: 1010 } }) + 'data: [DONE]\n\n';
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const write = (s: string) => {
        rec.written += Buffer.byteLength(s);
        return res.write(s);
      };
      write(head);
      const pump = () => {
        while (!res.destroyed && rec.written < totalBytes) {
          if (!write(delta)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end(tail);
      };
      req.socket.on('close', () => res.off('drain', pump));
      pump();
    },
  );
  return { ...server, totalBytes };
}
