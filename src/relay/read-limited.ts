import type { Readable } from 'node:stream';
import { RelayError } from './respond.ts';

/**
 * Reads a whole upstream body into memory, refusing (502) past `limit` bytes: a hostile or broken
 * upstream must not be able to make the gateway buffer an answer of any size.
 */
export async function readLimited(body: Readable, limit: number, declaredLength?: unknown): Promise<Buffer> {
  const declared = Number(declaredLength);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function tooLarge(limit: number) {
  return new RelayError(502, 'upstream_error', `The upstream provider's answer is larger than this gateway accepts (MAX_RESPONSE_BYTES = ${limit}).`, 'upstream_error');
}

/** An upstream's whole answer (readLimited) and its JSON; an answer that is not JSON is a 502 too. */
export async function readJsonAnswer(response: { body: Readable; headers: Record<string, unknown> }, limit: number): Promise<{ buf: Buffer; parsed: any }> {
  const buf = await readLimited(response.body, limit, response.headers['content-length']);
  try {
    return { buf, parsed: JSON.parse(buf.toString('utf8')) };
  } catch {
    throw new RelayError(502, 'upstream_error', 'The upstream provider sent an answer that is not JSON.', 'upstream_error');
  }
}
