// KeyRotation on its own: keys in turn, a rejected key skipped until its time is up, a changed key
// list starting clean, and a one-secret type (vertex) never split into lines.
import { describe, expect, it } from 'vitest';
import { KeyRotation, keysOf, REJECTED_FOR_MS } from '../src/channels/key-rotation.ts';
import type { Channel } from '../src/channels/registry.ts';

const channel = (apiKey: string, type: Channel['type'] = 'openai', id = 1): Channel =>
  ({ id, name: 'c', type, baseUrl: 'http://x', apiKey, config: {}, models: [], groups: [], priority: 0, weight: 1, modelMapping: {}, enabled: true, problem: null, status: 'ok', statusReason: null, statusAt: null, createdAt: 0, updatedAt: 0 }) as Channel;

describe('KeyRotation', () => {
  it('takes the keys in turn, skips a rejected one until REJECTED_FOR_MS has passed', () => {
    let now = 1_000;
    const r = new KeyRotation(() => now);
    const ch = channel(' a \n\nb\r\nc\n');
    expect(keysOf(ch)).toEqual(['a', 'b', 'c']);
    expect([r.pick(ch), r.pick(ch), r.pick(ch), r.pick(ch)]).toEqual(['a', 'b', 'c', 'a']);
    expect(r.reject(ch, 'b')).toBe(true);
    expect([r.pick(ch), r.pick(ch), r.pick(ch)]).toEqual(['c', 'c', 'a']);
    expect(r.reject(ch, 'a')).toBe(true);
    expect(r.reject(ch, 'c')).toBe(false); // every key rejected: the channel's keys are revoked (health disables it)
    now += REJECTED_FOR_MS;
    expect(new Set([r.pick(ch), r.pick(ch), r.pick(ch)])).toEqual(new Set(['a', 'b', 'c']));
  });

  it('a channel with one key is never rotated or marked; a vertex service account is one key', () => {
    const r = new KeyRotation();
    const one = channel('only');
    expect(r.reject(one, 'only')).toBe(false);
    expect(r.pick(one)).toBe('only');
    const sa = '{\n  "client_email": "x@y",\n  "private_key": "-----BEGIN PRIVATE KEY-----\\n…"\n}';
    expect(keysOf(channel(sa, 'vertex'))).toEqual([sa]);
  });
});
