// Each sender against a real local receiver: an SMTP server (smtp-server) reading the delivered
// message, and HTTP servers standing in for a webhook receiver, Bark and Gotify. Plus the URL guard.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkTarget,
  checkTargetReachable,
  isPublicAddress,
  NotifyError,
  sendBark,
  sendEmail,
  sendGotify,
  sendNotification,
  sendWebhook,
  type NotifyMessage,
  type Resolver,
  type SmtpSettings,
} from '../src/notify/index.ts';
import { startReceiver, type Receiver } from './fakes/notify/receiver.ts';
import { CA_CERT, startSmtpSink } from './fakes/notify/smtp-sink.ts';

const message: NotifyMessage = {
  type: 'balance_low',
  title: 'MoleAPI: balance below $1.00 — 余额不足',
  content: 'Your balance is $0.40, below your alert threshold of $1.00. Top up & retry?',
  values: { balance: { quota: 200000, usd: '0.400000' }, threshold: { quota: 500000, usd: '1.000000' } },
};
const open = { allowPrivate: true, timeoutMs: 3000 };

async function failure(p: Promise<unknown>): Promise<NotifyError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifyError);
  return err as NotifyError;
}

describe('email (smtp-server as the receiving end)', () => {
  const smtp = (port: number, extra: Partial<SmtpSettings>): SmtpSettings => ({ host: 'localhost', port, security: 'none', from: 'MoleAPI <noreply@moleapi.test>', ...extra });

  it('plain SMTP without auth: from, to, subject and body arrive as sent', async () => {
    const sink = await startSmtpSink({ mode: 'none' });
    try {
      await sendEmail(smtp(sink.port, {}), { to: 'dev@example.com', subject: message.title, text: message.content });
      const [mail] = await sink.waitForMails(1);
      expect(mail).toMatchObject({
        envelopeFrom: 'noreply@moleapi.test',
        envelopeTo: ['dev@example.com'],
        secure: false,
        user: null,
        from: '"MoleAPI" <noreply@moleapi.test>',
        to: 'dev@example.com',
        subject: message.title,
        text: message.content,
      });
    } finally {
      await sink.close();
    }
  });

  it('STARTTLS with a login: the session is upgraded before the message and authenticated', async () => {
    const sink = await startSmtpSink({ mode: 'starttls', auth: { user: 'mailer', pass: 's3cret-pass' } });
    try {
      await sendEmail(smtp(sink.port, { security: 'starttls', user: 'mailer', password: 's3cret-pass' }), { to: 'a@example.com', subject: 'Hi', text: 'Body' }, { tls: { ca: CA_CERT } });
      const [mail] = await sink.waitForMails(1);
      expect(mail!.secure).toBe(true);
      expect(mail!.user).toBe('mailer');
      expect(mail!.subject).toBe('Hi');
      expect(mail!.text).toBe('Body');
    } finally {
      await sink.close();
    }
  });

  it('implicit TLS with a login', async () => {
    const sink = await startSmtpSink({ mode: 'tls', auth: { user: 'mailer', pass: 'pw-123456' } });
    try {
      await sendEmail(smtp(sink.port, { security: 'tls', user: 'mailer', password: 'pw-123456' }), { to: 'b@example.com', subject: 'TLS', text: 'over TLS' }, { tls: { ca: CA_CERT } });
      const [mail] = await sink.waitForMails(1);
      expect(mail!.secure).toBe(true);
      expect(mail!.envelopeTo).toEqual(['b@example.com']);
    } finally {
      await sink.close();
    }
  });

  it('refuses an untrusted certificate (certificates are verified)', async () => {
    const sink = await startSmtpSink({ mode: 'tls' });
    try {
      const err = await failure(sendEmail(smtp(sink.port, { security: 'tls' }), { to: 'b@example.com', subject: 'x', text: 'y' }));
      expect(err.message).toMatch(/self[- ]signed|certificate/i);
      expect(sink.mails).toHaveLength(0);
    } finally {
      await sink.close();
    }
  });

  it('starttls refuses a server that does not offer STARTTLS instead of sending in clear', async () => {
    const sink = await startSmtpSink({ mode: 'none' });
    try {
      const err = await failure(sendEmail(smtp(sink.port, { security: 'starttls' }), { to: 'c@example.com', subject: 'x', text: 'y' }, { tls: { ca: CA_CERT } }));
      expect(err.message).toMatch(/STARTTLS/i);
      expect(sink.mails).toHaveLength(0);
    } finally {
      await sink.close();
    }
  });

  it('a wrong password fails with the server reply and never shows the password', async () => {
    const sink = await startSmtpSink({ mode: 'starttls', auth: { user: 'mailer', pass: 'right-pass' } });
    try {
      const err = await failure(
        sendEmail(smtp(sink.port, { security: 'starttls', user: 'mailer', password: 'wrong-pass-xyz' }), { to: 'a@example.com', subject: 'x', text: 'y' }, { tls: { ca: CA_CERT } }),
      );
      expect(err.message).toMatch(/535|Invalid/);
      expect(err.message).not.toContain('wrong-pass-xyz');
      expect(err.permanent).toBe(false); // the outbox retries (the admin may fix the settings)
      expect(sink.mails).toHaveLength(0);
    } finally {
      await sink.close();
    }
  });

  it('a server that accepts the connection but never greets fails within the timeout', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const err = await failure(sendEmail(smtp(port, {}), { to: 'a@example.com', subject: 'x', text: 'y' }, { timeoutMs: 300 }));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(err.message).toMatch(/timeout|no answer|greeting/i);
    } finally {
      silent.close();
    }
  });

  it('bad settings and addresses are permanent errors', async () => {
    expect((await failure(sendEmail(smtp(25, { host: '' }), { to: 'a@example.com', subject: 'x', text: 'y' }))).permanent).toBe(true);
    expect((await failure(sendEmail(smtp(70000, {}), { to: 'a@example.com', subject: 'x', text: 'y' }))).permanent).toBe(true);
    expect((await failure(sendEmail(smtp(25, {}), { to: 'not an address', subject: 'x', text: 'y' }))).permanent).toBe(true);
    const viaDispatch = await failure(sendNotification({ method: 'email', email: 'a@example.com' }, message, { smtp: null, allowPrivate: false }));
    expect(viaDispatch.permanent).toBe(true);
    expect(viaDispatch.message).toMatch(/SMTP/);
  });
});

describe('webhook', () => {
  let rx: Receiver;
  beforeAll(async () => void (rx = await startReceiver('webhook')));
  afterAll(() => rx.close());

  it('POSTs {type, title, content, values, timestamp} signed with HMAC-SHA256 of the raw body', async () => {
    const before = rx.requests.length;
    const secret = 'whsec-0123456789';
    await sendWebhook({ webhookUrl: `${rx.url}/hooks/moleapi?src=gw`, webhookSecret: secret }, message, { ...open, now: () => 1_790_000_000_123 });
    const req = rx.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/moleapi');
    expect(req.query.get('src')).toBe('gw');
    expect(req.headers['content-type']).toBe('application/json');
    const expected = createHmac('sha256', secret).update(req.rawBody).digest('hex');
    expect(req.headers['x-webhook-signature']).toBe(expected);
    expect(JSON.parse(req.rawBody)).toEqual({ type: message.type, title: message.title, content: message.content, values: message.values, timestamp: 1_790_000_000 });
  });

  it('sends no signature header without a secret', async () => {
    const before = rx.requests.length;
    await sendWebhook({ webhookUrl: rx.url, webhookSecret: null }, message, open);
    expect(rx.requests[before]!.headers['x-webhook-signature']).toBeUndefined();
  });

  it('a non-2xx answer is a retryable error naming the status (redirects are not followed)', async () => {
    rx.failNext(500, 302);
    const e500 = await failure(sendWebhook({ webhookUrl: rx.url }, message, open));
    expect(e500.message).toContain('HTTP 500');
    expect(e500.permanent).toBe(false);
    expect((await failure(sendWebhook({ webhookUrl: rx.url }, message, open))).message).toContain('HTTP 302');
  });

  it('a receiver that does not answer in time fails at the timeout', async () => {
    rx.setDelay(2000);
    try {
      const started = Date.now();
      const err = await failure(sendWebhook({ webhookUrl: rx.url }, message, { allowPrivate: true, timeoutMs: 200 }));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(err.message).toContain('no answer within 200 ms');
    } finally {
      rx.setDelay(0);
    }
  });

  it('a refused connection is a retryable error', async () => {
    const err = await failure(sendWebhook({ webhookUrl: 'http://127.0.0.1:9/' }, message, open));
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.permanent).toBe(false);
  });
});

describe('Bark', () => {
  let rx: Receiver;
  beforeAll(async () => void (rx = await startReceiver('bark')));
  afterAll(() => rx.close());

  it('GETs <barkUrl>/<title>/<body>, keeping the URL query', async () => {
    const before = rx.requests.length;
    await sendBark({ barkUrl: `${rx.url}/DeviceKey123/?group=moleapi` }, message, open);
    const req = rx.requests[before]!;
    expect(req.method).toBe('GET');
    const segments = req.path.split('/').slice(1).map(decodeURIComponent);
    expect(segments).toEqual(['DeviceKey123', message.title, message.content]);
    expect(req.query.get('group')).toBe('moleapi');
  });

  it('fills {{title}} and {{content}} when the URL has them', async () => {
    const before = rx.requests.length;
    await sendBark({ barkUrl: `${rx.url}/push?device_key=K&title={{title}}&body={{content}}` }, message, open);
    const req = rx.requests[before]!;
    expect(req.path).toBe('/push');
    expect(req.query.get('title')).toBe(message.title);
    expect(req.query.get('body')).toBe(message.content);
    expect(req.query.get('device_key')).toBe('K');
  });
});

describe('Gotify', () => {
  let rx: Receiver;
  beforeAll(async () => void (rx = await startReceiver('gotify', { gotifyToken: 'AppTok.en-1' })));
  afterAll(() => rx.close());

  it('POSTs <server>/message?token=… with title, message and priority', async () => {
    const before = rx.requests.length;
    await sendGotify({ gotifyUrl: `${rx.url}/gotify/`, gotifyToken: 'AppTok.en-1', gotifyPriority: 8 }, message, open);
    const req = rx.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/gotify/message');
    expect(req.query.get('token')).toBe('AppTok.en-1');
    expect(JSON.parse(req.rawBody)).toEqual({ title: message.title, message: message.content, priority: 8 });
  });

  it('priority defaults to 5; out of range is refused before sending', async () => {
    const before = rx.requests.length;
    await sendGotify({ gotifyUrl: rx.url, gotifyToken: 'AppTok.en-1' }, message, open);
    expect(JSON.parse(rx.requests[before]!.rawBody).priority).toBe(5);
    for (const p of [-1, 11, 2.5]) {
      const err = await failure(sendGotify({ gotifyUrl: rx.url, gotifyToken: 'AppTok.en-1', gotifyPriority: p }, message, open));
      expect(err.permanent).toBe(true);
    }
    expect(rx.requests.length).toBe(before + 1);
  });

  it("a wrong token fails with Gotify's 401, and the error does not show the token", async () => {
    const err = await failure(sendGotify({ gotifyUrl: rx.url, gotifyToken: 'wrong-token-abc' }, message, open));
    expect(err.message).toContain('HTTP 401');
    expect(err.message).not.toContain('wrong-token-abc');
  });
});

describe('URL guard', () => {
  let rx: Receiver;
  beforeAll(async () => void (rx = await startReceiver('webhook')));
  afterAll(() => rx.close());

  it('refuses loopback receivers by default, for every HTTP method, before any request', async () => {
    const before = rx.requests.length;
    const closed = { allowPrivate: false, timeoutMs: 2000 };
    const errors = [
      await failure(sendWebhook({ webhookUrl: rx.url }, message, closed)),
      await failure(sendBark({ barkUrl: `${rx.url}/key` }, message, closed)),
      await failure(sendGotify({ gotifyUrl: rx.url, gotifyToken: 't' }, message, closed)),
      await failure(sendWebhook({ webhookUrl: `http://[::1]:${rx.port}/` }, message, closed)),
      await failure(sendWebhook({ webhookUrl: `http://[::ffff:127.0.0.1]:${rx.port}/` }, message, closed)),
    ];
    for (const e of errors) {
      expect(e.permanent).toBe(true);
      expect(e.message).toMatch(/not allowed/);
    }
    expect(errors[0]!.message).toContain('127.0.0.1 (loopback)');
    expect(rx.requests.length).toBe(before);
  });

  it('refuses a host name that resolves to 127.0.0.1 (localhost)', async () => {
    const before = rx.requests.length;
    const err = await failure(sendWebhook({ webhookUrl: `http://localhost:${rx.port}/` }, message, { allowPrivate: false }));
    expect(err.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/);
    expect(rx.requests.length).toBe(before);
  });

  it('lets loopback through when allowPrivate is set', async () => {
    const before = rx.requests.length;
    await sendWebhook({ webhookUrl: `http://localhost:${rx.port}/` }, message, { allowPrivate: true });
    expect(rx.requests.length).toBe(before + 1);
  });

  it('refuses a name when any of its addresses is private, even if another is public', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    const err = await failure(sendWebhook({ webhookUrl: 'https://hooks.example.com/x' }, message, { allowPrivate: false, resolve }));
    expect(err.message).toContain('10.1.2.3 (private)');
  });

  it('connects to the address it checked: a second, different DNS answer is never used', async () => {
    // DNS rebinding: the first answer is what the guard checks; a resolver asked again would say
    // something else. The request must reach the first answer, with the URL's host in Host.
    let calls = 0;
    const resolve: Resolver = async () => (++calls === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.255.255.1', family: 4 }]);
    const before = rx.requests.length;
    await sendWebhook({ webhookUrl: `http://rebind.example:${rx.port}/pinned` }, message, { allowPrivate: true, resolve, timeoutMs: 2000 });
    expect(calls).toBe(1);
    const req = rx.requests[before]!;
    expect(req.path).toBe('/pinned');
    expect(req.headers.host).toBe(`rebind.example:${rx.port}`);
  });

  it('a name that does not resolve is a retryable error', async () => {
    const resolve: Resolver = async () => Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    const err = await failure(sendWebhook({ webhookUrl: 'https://nowhere.example/' }, message, { allowPrivate: false, resolve }));
    expect(err.message).toContain('ENOTFOUND');
    expect(err.permanent).toBe(false);
  });

  it('classifies addresses: only public unicast passes', () => {
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '0.0.0.0', '::', '100.64.0.1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '224.0.0.1', '255.255.255.255', 'not-an-ip']) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(ip), ip).toBe(true);
  });

  it('validates targets for saving: each problem names its field', async () => {
    expect(checkTarget({ method: 'email', email: 'dev@example.com' })).toBeNull();
    expect(checkTarget({ method: 'email', email: 'nope' })?.field).toBe('email');
    expect(checkTarget({ method: 'webhook', webhookUrl: 'ftp://x.example/' })).toEqual({ field: 'webhookUrl', message: 'webhookUrl must be an http or https URL' });
    expect(checkTarget({ method: 'webhook', webhookUrl: 'https://user:pw@x.example/' })?.field).toBe('webhookUrl');
    expect(checkTarget({ method: 'bark', barkUrl: '' })?.field).toBe('barkUrl');
    expect(checkTarget({ method: 'gotify', gotifyUrl: 'https://g.example', gotifyToken: '' })?.field).toBe('gotifyToken');
    expect(checkTarget({ method: 'gotify', gotifyUrl: 'https://g.example', gotifyToken: 't', gotifyPriority: 11 })?.field).toBe('gotifyPriority');
    expect(checkTarget({ method: 'gotify', gotifyUrl: 'https://g.example/?x=1', gotifyToken: 't' })?.field).toBe('gotifyUrl');
    expect(checkTarget({ method: 'sms' } as never)?.field).toBe('method');
    const publicDns: Resolver = async () => [{ address: '93.184.216.34', family: 4 }];
    expect(await checkTargetReachable({ method: 'webhook', webhookUrl: 'https://hooks.example.com/' }, false, publicDns)).toBeNull();
    const local = await checkTargetReachable({ method: 'bark', barkUrl: `http://localhost:${rx.port}/k` }, false);
    expect(local?.field).toBe('barkUrl');
    expect(local?.message).toMatch(/loopback/);
    expect(await checkTargetReachable({ method: 'bark', barkUrl: `http://localhost:${rx.port}/k` }, true)).toBeNull();
  });
});
