// Optional email verification: with emailVerificationRequired on, registration needs an email, a
// signed link arrives through the gateway's outbox and a real SMTP server, and the trial credit (and
// the inviter's reward) are granted only when it is opened; one address earns one trial.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { startSmtpSink, type SmtpSink } from './fakes/notify/smtp-sink.ts';

let gw: TestGateway;
let sink: SmtpSink;
let seq = 0;
const PASSWORD = 'verify-pass-123';
const TRIAL = 250_000;

beforeAll(async () => {
  [gw, sink] = await Promise.all([startGateway(), startSmtpSink({ mode: 'none' })]);
  // Not before SMTP is set: the links could not be sent.
  const early = await gw.admin.patch('/api/admin/settings', { emailVerificationRequired: true });
  expect(early.status).toBe(400);
  expect(early.body.error.code).toBe('smtp_not_configured');
  expect((await gw.admin.put('/api/admin/smtp', { host: '127.0.0.1', port: sink.port, security: 'none', from: 'MoleAPI <noreply@example.test>' })).status).toBe(200);
  expect((await gw.admin.patch('/api/admin/settings', { emailVerificationRequired: true, trialQuota: TRIAL, referralRewardQuota: 100_000 })).status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
  await sink?.close();
});

async function register(email: string | undefined, extra: Record<string, unknown> = {}) {
  const username = `ev${process.pid}_${++seq}`;
  const client = new ApiClient(gw.url);
  const res = await client.post('/api/auth/register', { username, password: PASSWORD, ...(email !== undefined ? { email } : {}), ...extra });
  if (res.status === 201) await client.login(username, PASSWORD);
  return { client, res };
}

/** The link in the nth mail to `to` (waits for it). */
async function linkFor(to: string, nth = 1): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    // The SMTP server lower-cases the domain only.
    const mails = sink.mails.filter((m) => m.envelopeTo.some((t) => t.toLowerCase() === to.toLowerCase()));
    if (mails.length >= nth) {
      const m = /https?:\/\/\S+\/api\/auth\/verify-email\?token=\S+/.exec(mails[nth - 1]!.text);
      expect(m, mails[nth - 1]!.text).not.toBeNull();
      return m![0];
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to}: ${JSON.stringify(sink.mails.map((m) => m.envelopeTo))} ${JSON.stringify(await gw.gateway.db.all("SELECT kind, status, last_error FROM outbox"))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const balance = async (c: ApiClient) => (await c.get('/api/wallet')).body.balance.quota as number;
const path = (link: string) => link.slice(link.indexOf('/api/'));

describe('email verification', () => {
  it('requires an email; the trial arrives only with the emailed link, once', async () => {
    const none = await register(undefined);
    expect(none.res.status).toBe(400);
    expect(none.res.body.error.issues[0].path).toEqual(['email']);

    const { client, res } = await register('First.User@Example.test');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await balance(client)).toBe(0);
    const link = await linkFor('First.User@Example.test');
    expect(link.startsWith(gw.url)).toBe(true);

    const anon = new ApiClient(gw.url);
    const ok = await anon.get(path(link));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toEqual({ verified: true, alreadyVerified: false, trialCredited: { quota: TRIAL, usd: '0.500000' } });
    expect(await balance(client)).toBe(TRIAL);
    // A second click grants nothing.
    expect((await anon.get(path(link))).body).toMatchObject({ alreadyVerified: true, trialCredited: { quota: 0 } });
    expect(await balance(client)).toBe(TRIAL);
    expect((await client.post('/api/me/verify-email')).status).toBe(409);
  });

  it('one address earns one trial, whatever its case', async () => {
    const a = await register('shared@example.test');
    const b = await register('SHARED@example.test');
    expect(b.res.status).toBe(201);
    const linkA = await linkFor('shared@example.test');
    const linkB = await linkFor('shared@example.test', 2);
    expect((await new ApiClient(gw.url).get(path(linkA))).status).toBe(200);
    const second = await new ApiClient(gw.url).get(path(linkB));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('email_taken');
    // The two mails may arrive in either order: the first link's token names its account.
    const firstOwner = Number(new URL(linkA).searchParams.get('token')!.split('.')[0]);
    const [winner, loser] = firstOwner === a.res.body.user.id ? [a, b] : [b, a];
    expect(await balance(winner.client)).toBe(TRIAL);
    expect(await balance(loser.client)).toBe(0);
    // And a new registration with a verified address is refused up front.
    expect((await register('Shared@Example.test')).res.status).toBe(409);
  });

  it('refuses tampered, foreign and expired tokens with a 400', async () => {
    const { client } = await register('tamper@example.test');
    const link = await linkFor('tamper@example.test');
    const token = new URL(link).searchParams.get('token')!;
    const [id, exp, mac] = token.split('.');
    const anon = new ApiClient(gw.url);
    for (const bad of [`${id}.${Number(exp) + 1}.${mac}`, `${Number(id) - 1}.${exp}.${mac}`, `${id}.${exp}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`, 'garbage', '']) {
      const res = await anon.get(`/api/auth/verify-email?token=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
    }
    expect(await balance(client)).toBe(0);
    // A correctly signed link past its expiry: made with the gateway's own key.
    const { verificationToken } = await import('../src/wallet/email-verification.ts');
    const expired = verificationToken(gw.gateway.secrets, Number(id), 'tamper@example.test', Date.now() - 1000);
    const res = await anon.get(`/api/auth/verify-email?token=${expired}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('expired_token');
    expect((await anon.get(path(link))).status).toBe(200);
    expect(await balance(client)).toBe(TRIAL);
  });

  it("the inviter's reward waits for the invitee's verification; a resent link works", async () => {
    const inviter = await register('inviter@example.test');
    await new ApiClient(gw.url).get(path(await linkFor('inviter@example.test')));
    const code = (await inviter.client.get('/api/wallet/referral')).body.code;
    const before = await balance(inviter.client);
    const invitee = await register('invitee@example.test', { inviteCode: code });
    expect(invitee.res.status).toBe(201);
    await linkFor('invitee@example.test');
    expect(await balance(inviter.client)).toBe(before);
    expect((await invitee.client.post('/api/me/verify-email')).status).toBe(202);
    const second = await linkFor('invitee@example.test', 2);
    expect((await new ApiClient(gw.url).get(path(second))).status).toBe(200);
    expect(await balance(inviter.client)).toBe(before + 100_000);
    expect(await balance(invitee.client)).toBe(TRIAL);
  });

  it('off (the default): no email needed and the trial is immediate', async () => {
    await gw.admin.patch('/api/admin/settings', { emailVerificationRequired: false });
    try {
      const { client, res } = await register(undefined);
      expect(res.status).toBe(201);
      expect(await balance(client)).toBe(TRIAL);
    } finally {
      await gw.admin.patch('/api/admin/settings', { emailVerificationRequired: true });
    }
  });
});
