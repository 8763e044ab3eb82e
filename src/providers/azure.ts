// Azure OpenAI: OpenAI's wire format under /openai/deployments/{deployment}/…?api-version=…, the key
// in api-key. The deployment is the channel's mapping for the model, else the model's own name.
import type { Channel } from '../channels/registry.ts';
import { ACCEPT, type Provider } from './types.ts';

/** A GA version that supports stream_options.include_usage (the usage chunk the metering reads). */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

function deploymentPath(ch: Channel, model: string, path: string): string {
  const deployment = ch.config.deployments?.[model] ?? model;
  return `/deployments/${encodeURIComponent(deployment)}${path}?api-version=${ch.config.apiVersion ?? AZURE_DEFAULT_API_VERSION}`;
}

export const azure: Provider = {
  protocol: 'openai',
  defaultBaseUrl: 'https://YOUR-RESOURCE.openai.azure.com',
  bareOriginPrefix: '/openai',
  chatPath: (ch, t) => deploymentPath(ch, t.model, '/chat/completions'),
  surfacePath: (ch, model, path) => deploymentPath(ch, model, path),
  headers: (ch, key) => ({ ...ch.config.headers, 'content-type': 'application/json', 'api-key': key, accept: ACCEPT }),
  configFields: ['apiVersion', 'deployments'],
};
