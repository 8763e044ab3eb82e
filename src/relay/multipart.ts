// multipart/form-data bodies (audio transcriptions, image edits): the text fields the relay needs
// (model, stream, prompt …) and which file fields are present, without copying the files. A mapped
// model is written back by replacing that one part's value; every other byte goes upstream as sent.
import { RelayError } from './respond.ts';

export interface MultipartPart {
  name: string;
  filename: string | null;
  /** Where the part's value is in the body. */
  start: number;
  end: number;
}

export interface MultipartBody {
  raw: Buffer;
  boundary: string;
  parts: MultipartPart[];
  /** Text fields by name (the first of each), decoded as UTF-8. */
  fields: Map<string, string>;
  /** Names of the parts that carry a file. */
  files: Set<string>;
}

const bad = (message: string, param: string | null = null) => new RelayError(400, 'invalid_request', message, 'invalid_request_error', param);

/** The boundary of a multipart/form-data content type, or null when the body is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]!) : null;
}

export function parseMultipart(raw: Buffer, contentType: string | undefined): MultipartBody {
  const boundary = multipartBoundary(contentType);
  if (!boundary) throw bad('This endpoint takes multipart/form-data (with a boundary), as the OpenAI SDKs send it.');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  const fields = new Map<string, string>();
  const files = new Set<string>();
  let pos = raw.indexOf(delimiter);
  if (pos < 0) throw bad('The multipart body has no part (its boundary was not found).');
  for (;;) {
    const after = pos + delimiter.length;
    if (raw[after] === 0x2d && raw[after + 1] === 0x2d) break; // "--": the closing delimiter
    const headersStart = raw.indexOf('\r\n', after) + 2;
    const headersEnd = raw.indexOf('\r\n\r\n', headersStart);
    if (headersStart < 2 || headersEnd < 0) throw bad('A multipart part is malformed (no header end).');
    const next = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
    if (next < 0) throw bad('The multipart body is cut short (no closing boundary).');
    const headers = raw.subarray(headersStart, headersEnd).toString('utf8');
    const disposition = /content-disposition:\s*form-data([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw bad('A multipart part has no form-data name.');
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
    const part = { name, filename, start: headersEnd + 4, end: next };
    parts.push(part);
    if (filename !== null) files.add(name);
    else if (!fields.has(name)) fields.set(name, raw.subarray(part.start, part.end).toString('utf8'));
    pos = next + 2;
  }
  return { raw, boundary, parts, fields, files };
}

/** The body with one text field's value replaced (the first part of that name). */
export function withField(body: MultipartBody, name: string, value: string): Buffer {
  const part = body.parts.find((p) => p.name === name && p.filename === null);
  if (!part) return body.raw;
  return Buffer.concat([body.raw.subarray(0, part.start), Buffer.from(value, 'utf8'), body.raw.subarray(part.end)]);
}
