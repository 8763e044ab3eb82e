// Console strings for channel types and their config (issue 9, providers).
export const providersEn = {
  'providers.type': 'Type',
  'providers.keyHint': 'Several keys: one per line, used in rotation. vertex: the service account JSON file.',
  'providers.config': 'Config (JSON)',
  'providers.configHint': 'azure: {"apiVersion":"2024-10-21","deployments":{"gpt-4o":"my-deployment"}} · vertex: {"project":"…","location":"us-central1"} · any type: {"headers":{…}} (header values are write-only: give headers only to replace them)',
  'providers.configInvalid': 'Config must be a JSON object.',
} as const;
