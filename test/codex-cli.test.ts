// Codex CLI (@openai/codex, the real native binary from npm) against the gateway: a `model_providers`
// entry with wire_api = "responses" pointing at /v1, the caller's sk- key in an env var, one real
// prompt through `codex exec`, served by the fake OpenAI upstream's /v1/responses stream. It runs
// offline in about two seconds, so it is part of the normal suite.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROMPT_TOKENS } from './fakes/openai-surfaces.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { expectBilled, funded, wallet } from './helpers/billing.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const CODEX = join(dirname(createRequire(import.meta.url).resolve('@openai/codex/package.json')), 'bin', 'codex.js');

let gw: TestGateway;
let up: FakeOpenAI;
let home: string;

beforeAll(async () => {
  up = await startFakeOpenAI();
  gw = await startGateway();
  home = mkdtempSync(join(tmpdir(), 'moleapi-codex-'));
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

function codexExec(prompt: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // stdin closed: `codex exec` otherwise waits for more input on it.
    const p = spawn(process.execPath, [CODEX, 'exec', '--skip-git-repo-check', prompt], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

it('codex exec answers one prompt through /v1/responses and the call is billed exactly', async () => {
  const s = await funded(gw, up.url, 'codex');
  writeFileSync(
    join(home, 'config.toml'),
    [
      `model = "${s.model}"`,
      'model_provider = "moleapi"',
      '',
      '[model_providers.moleapi]',
      'name = "MoleAPI"',
      `base_url = "${gw.url}/v1"`,
      'env_key = "MOLEAPI_API_KEY"',
      'wire_api = "responses"',
      '',
    ].join('\n'),
  );
  const before = await wallet(s.client);
  const r = await codexExec('Say tok', { CODEX_HOME: home, HOME: home, MOLEAPI_API_KEY: s.key });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe('tok '.repeat(8).trim());
  const sent = up.requests.filter((q) => q.body?.model === s.model);
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ path: '/v1/responses', body: { stream: true } });
  expect(sent[0]!.headers.authorization).toBe(`Bearer sk-upstream-${s.model}`); // the channel's key, not the caller's
  await expectBilled(s, before, PROMPT_TOKENS + 4 * 8, { promptTokens: PROMPT_TOKENS, completionTokens: 8, estimated: false, stream: true });
});
