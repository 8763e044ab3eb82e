// Google AI Studio (the Gemini API): the model and streaming are in the URL, the key in
// x-goog-api-key, streams are SSE when ?alt=sse is asked for.
import { ACCEPT, type Provider, type UpstreamTarget } from './types.ts';

/** `/models/{model}:generateContent`, or the streaming method with SSE framing. */
export const geminiMethodPath = (t: UpstreamTarget) =>
  `/models/${encodeURIComponent(t.model)}:${t.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;

export const gemini: Provider = {
  protocol: 'gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  bareOriginPrefix: '/v1beta',
  chatPath: (_ch, t) => geminiMethodPath(t),
  headers: (ch, key) => ({ ...ch.config.headers, 'content-type': 'application/json', 'x-goog-api-key': key, accept: ACCEPT }),
  configFields: [],
};
