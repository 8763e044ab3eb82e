// Claude Code itself (@anthropic-ai/claude-code, the real CLI from npm) pointed at the gateway with
// ANTHROPIC_BASE_URL and a gateway key, against a fake Anthropic upstream: one real prompt, run
// non-interactively (`claude -p`), prints the fake's answer, and the wallet pays exactly for every
// call it made. Offline: telemetry, auto-update and other non-essential traffic are switched off.
// Opt-in (about 10 s per run of the CLI): MOLEAPI_TEST_CLAUDE_CODE=1, which .ci/run sets.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, type Price } from '../src/pricing/cost.ts';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic-upstream.ts';
import { addChannel, createUserWithKey, setPrice, startGateway, type TestGateway } from './helpers/gateway.ts';

const CLAUDE = join(import.meta.dirname, '..', 'node_modules', '.bin', 'claude');
const PRICE_TABLE: Price = { input: 2_000_000n, output: 8_000_000n, cachedInput: null, cacheWrite: null, perRequest: null, maxOutputTokens: null };

let gw: TestGateway;
let ant: FakeAnthropic;
let home: string;

beforeAll(async () => {
  [ant, gw] = await Promise.all([startFakeAnthropic(), startGateway()]);
  home = mkdtempSync(join(tmpdir(), 'moleapi-claude-'));
});
afterAll(async () => {
  await gw?.close();
  await ant?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

function runClaude(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CLAUDE, args, { cwd: home, env, timeout: 90_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe.skipIf(process.env.MOLEAPI_TEST_CLAUDE_CODE !== '1')('Claude Code against the gateway', () => {
  it.each(['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'])('claude -p with %s = a gateway key prints the upstream answer and is billed', async (keyVar) => {
    const model = `claude-code-${keyVar === 'ANTHROPIC_API_KEY' ? 'apikey' : 'token'}-${process.pid}`;
    await addChannel(gw, { name: `cc-${model}`, type: 'anthropic', baseUrl: ant.url, models: [model], apiKey: 'sk-ant-upstream' });
    await setPrice(gw, model, { input: '2', output: '8' });
    const user = await createUserWithKey(gw, { balance: 5_000_000 });
    const before = (await user.client.get('/api/wallet')).body;

    const r = await runClaude(['-p', 'Reply with the word tok.', '--output-format', 'text'], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
      ANTHROPIC_BASE_URL: gw.url,
      [keyVar]: user.key,
      // Every model Claude Code picks (main, background haiku, subagents) is the one the key can use.
      ANTHROPIC_MODEL: model,
      ANTHROPIC_SMALL_FAST_MODEL: model,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
      ANTHROPIC_DEFAULT_SONNET_MODEL: model,
      ANTHROPIC_DEFAULT_OPUS_MODEL: model,
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('tok tok tok');

    const calls = ant.requests.filter((q) => q.body?.model === model);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    // The fake answers min(max_tokens, 8) tokens after a 10-token prompt, whatever Claude Code sent.
    const expected = calls.reduce((sum, q) => sum + costOf(PRICE_TABLE, 1_000_000n, { promptTokens: 10, completionTokens: Math.min(q.body.max_tokens, 8), cachedTokens: 0 }), 0);
    const after = (await user.client.get('/api/wallet')).body;
    expect(after.held.quota).toBe(0);
    expect(after.requestCount - before.requestCount).toBe(calls.length);
    expect(before.balance.quota - after.balance.quota).toBe(expected);
  });
});
