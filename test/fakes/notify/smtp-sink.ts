// A real SMTP server (smtp-server) that keeps every delivered message, parsed (mailparser), with its
// envelope and whether the session was encrypted. TLS uses the self-signed localhost certificate
// beside this file; clients trust it by passing CA_CERT as their `ca`.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const here = new URL('.', import.meta.url);
export const CA_CERT = readFileSync(new URL('localhost.cert.pem', here), 'utf8');
const KEY = readFileSync(new URL('localhost.key.pem', here), 'utf8');

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  /** TLS was on when the message was sent (implicit TLS or after STARTTLS). */
  secure: boolean;
  user: string | null;
  from: string;
  to: string;
  subject: string;
  text: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  waitForMails(n: number, ms?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { mode: 'tls' | 'starttls' | 'none'; auth?: { user: string; pass: string } }): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: opts.mode === 'tls',
    key: KEY,
    cert: CA_CERT,
    authOptional: !opts.auth,
    allowInsecureAuth: opts.mode === 'none',
    // 'none': a server with no TLS at all (STARTTLS is refused, not just unadvertised).
    disabledCommands: [...(opts.auth ? [] : ['AUTH']), ...(opts.mode === 'none' ? ['STARTTLS'] : [])],
    logger: false,
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : null,
            from: parsed.from?.text ?? '',
            to: Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? ''),
            subject: parsed.subject ?? '',
            text: (parsed.text ?? '').trim(),
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  // A client that gives up mid-handshake (the untrusted-certificate test) is an 'error' event here.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return {
    port,
    mails,
    async waitForMails(n, ms = 10_000) {
      const end = Date.now() + ms;
      while (mails.length < n) {
        if (Date.now() > end) throw new Error(`expected ${n} mails, got ${mails.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return mails;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
