import { ACCEPT, type Provider } from './types.ts';

export const openai: Provider = {
  protocol: 'openai',
  defaultBaseUrl: 'https://api.openai.com',
  bareOriginPrefix: '/v1',
  chatPath: () => '/chat/completions',
  headers: (ch, key) => ({ ...ch.config.headers, 'content-type': 'application/json', authorization: `Bearer ${key}`, accept: ACCEPT }),
  configFields: [],
};
