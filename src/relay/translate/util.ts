// Small helpers shared by the protocol codecs.
import { randomBytes } from 'node:crypto';
import { TranslationError } from './errors.ts';
import type { ImageSource } from './ir.ts';

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a provider's token counts. An absent count is 0; a present one that is not a non-negative
 * safe integer (1e400, -5, 1.5, "10") makes the whole usage untrustworthy: undefined, so the
 * metering treats it as missing (estimates) instead of billing a made-up number.
 */
export function readCounts<T extends object>(build: (count: (v: unknown) => number) => T): T | undefined {
  let bad = false;
  const count = (v: unknown): number => {
    if (v == null) return 0;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    bad = true;
    return 0;
  };
  const out = build(count);
  if (bad || Object.values(out).some((v) => typeof v === 'number' && !Number.isSafeInteger(v))) return undefined;
  return out;
}

/** The counts that are not 0 (a usage without audio or image tokens keeps its plain shape). */
export function nonZero<K extends string>(o: Record<K, number>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k in o) if (o[k]) out[k] = o[k];
  return out;
}

export const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

/** Tool arguments as an object (Anthropic `input`, Gemini `args`): JSON text that must be an object. */
export function parseArguments(text: string, at: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TranslationError(at, 'tool call arguments are not valid JSON');
  }
  if (!isObject(value)) throw new TranslationError(at, 'tool call arguments must be a JSON object');
  return value;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** An OpenAI `image_url.url`: a data URL becomes base64, anything else stays a URL. */
export function imageFromUrl(url: string, at: string): ImageSource {
  if (url.startsWith('data:')) {
    const m = DATA_URL.exec(url);
    if (!m) throw new TranslationError(at, 'a data URL image must be base64 encoded (data:<type>;base64,…)');
    return { kind: 'base64', mediaType: m[1]!, data: m[2]! };
  }
  if (!/^https?:\/\//i.test(url)) throw new TranslationError(at, 'an image URL must be http(s) or a base64 data URL');
  return { kind: 'url', url };
}

export const dataUrl = (mediaType: string, data: string): string => `data:${mediaType};base64,${data}`;

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

/** The media type of an image URL from its extension; undefined when the URL does not say. */
export function imageTypeOfUrl(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext ? IMAGE_TYPES[ext] : undefined;
}

export const sse = (data: string): string => `data: ${data}\n\n`;
export const sseEvent = (event: string, data: string): string => `event: ${event}\ndata: ${data}\n\n`;

// Shape checks for caller bodies: a wrong type is a TranslationError naming the field (a 400), never
// a TypeError deep inside a decoder (a 500).
export function obj(v: unknown, at: string): Record<string, unknown> {
  if (!isObject(v)) throw new TranslationError(at, 'must be an object');
  return v;
}
export function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new TranslationError(at, 'must be a string');
  return v;
}
export const optStr = (v: unknown, at: string): string | undefined => (v == null ? undefined : str(v, at));
export function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new TranslationError(at, 'must be an array');
  return v;
}
/** An optional array: absent or null is empty. */
export const optArr = (v: unknown, at: string): unknown[] => (v == null ? [] : arr(v, at));
export function optNum(v: unknown, at: string): number | undefined {
  if (v == null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TranslationError(at, 'must be a number');
  return v;
}
export function optInt(v: unknown, at: string): number | undefined {
  if (v == null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TranslationError(at, 'must be an integer');
  return v;
}
export const optStrArr = (v: unknown, at: string): string[] | undefined => (v == null ? undefined : arr(v, at).map((s, i) => str(s, `${at}[${i}]`)));

/**
 * Text of an untrusted JSON value: strings as they are, numbers and booleans printed, anything else
 * (objects whose toString is not a function, arrays) as JSON, so odd upstream input never throws.
 */
export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v == null) return '';
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}
