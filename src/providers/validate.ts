// Checks a channel's key and config against its type before it is saved: fields the type does not
// take, fields it needs, and keys it cannot use. Each problem names its field.
import type { Issue } from '../http/common.ts';
import type { ChannelConfig } from './config.ts';
import { PROVIDERS, type ChannelType } from './index.ts';

/** `apiKey` null: the key is not being changed, only the config is checked. */
export function channelProblems(type: ChannelType, apiKey: string | null, config: ChannelConfig): Issue[] {
  const p = PROVIDERS[type];
  const issues: Issue[] = [];
  for (const field of Object.keys(config) as (keyof ChannelConfig)[]) {
    if (field !== 'headers' && !p.configFields.includes(field)) {
      issues.push({ path: ['config', field], message: `not a setting of ${type} channels${p.configFields.length ? ` (they take ${p.configFields.join(', ')})` : ''}` });
    }
  }
  for (const field of p.requiredConfig ?? []) {
    if (config[field] === undefined) issues.push({ path: ['config', field], message: `required for ${type} channels` });
  }
  if (apiKey === null) return issues;
  const keyProblem = p.checkKey?.(apiKey);
  if (keyProblem) issues.push({ path: ['apiKey'], message: keyProblem });
  else if (!p.wholeKey && !apiKey.split(/\r?\n/).some((k) => k.trim())) issues.push({ path: ['apiKey'], message: 'at least one key is required' });
  return issues;
}
