import { ACCEPT, type Provider } from './types.ts';

/** The Anthropic API version we speak (https://docs.anthropic.com/en/api/versioning). */
export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropic: Provider = {
  protocol: 'anthropic',
  defaultBaseUrl: 'https://api.anthropic.com',
  bareOriginPrefix: '/v1',
  chatPath: () => '/messages',
  headers: (ch, key) => ({ ...ch.config.headers, 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': ANTHROPIC_VERSION, accept: ACCEPT }),
  configFields: [],
};
