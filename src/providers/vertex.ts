// Vertex AI Gemini: the Gemini wire format under
// /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent,
// authenticated with an OAuth token from the channel's service-account key (vertex-token.ts).
import { geminiMethodPath } from './gemini.ts';
import { ACCEPT, type Provider } from './types.ts';
import { accessToken, GOOGLE_TOKEN_URL, parseServiceAccount } from './vertex-token.ts';

export const vertex: Provider = {
  protocol: 'gemini',
  defaultBaseUrl: 'https://us-central1-aiplatform.googleapis.com',
  bareOriginPrefix: '/v1',
  chatPath: (ch, t) => `/projects/${ch.config.project}/locations/${ch.config.location}/publishers/google${geminiMethodPath(t)}`,
  async headers(ch, key) {
    const sa = parseServiceAccount(key);
    if (typeof sa === 'string') throw new Error(sa);
    const token = await accessToken(sa, ch.config.tokenUrl ?? sa.token_uri ?? GOOGLE_TOKEN_URL);
    return { ...ch.config.headers, 'content-type': 'application/json', authorization: `Bearer ${token}`, accept: ACCEPT };
  },
  wholeKey: true,
  configFields: ['project', 'location', 'tokenUrl'],
  requiredConfig: ['project', 'location'],
  checkKey: (key) => {
    const sa = parseServiceAccount(key);
    return typeof sa === 'string' ? sa : null;
  },
};
