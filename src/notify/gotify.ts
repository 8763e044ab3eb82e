// Gotify: POST <server>/message?token=<app token> with JSON {title, message, priority} (0–10).
import { NotifyError } from './errors.ts';
import { sendToReceiver, type ReceiverOptions } from './http-send.ts';
import type { NotifyMessage } from './types.ts';
import { parseReceiverUrl } from './url-guard.ts';

export interface GotifyTarget {
  gotifyUrl: string;
  gotifyToken: string;
  gotifyPriority?: number | null;
}

export const DEFAULT_GOTIFY_PRIORITY = 5;

export function gotifyRequestUrl(gotifyUrl: string, token: string): URL {
  const url = parseReceiverUrl('gotifyUrl', gotifyUrl);
  if (url.search || url.hash) throw new NotifyError('gotifyUrl must be the server address, without query or fragment', { permanent: true });
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/message`;
  url.searchParams.set('token', token);
  return url;
}

export async function sendGotify(target: GotifyTarget, message: NotifyMessage, opts: ReceiverOptions): Promise<void> {
  if (!target.gotifyToken) throw new NotifyError('gotifyToken is missing', { permanent: true });
  const priority = target.gotifyPriority ?? DEFAULT_GOTIFY_PRIORITY;
  if (!Number.isInteger(priority) || priority < 0 || priority > 10) throw new NotifyError('gotifyPriority must be an integer from 0 to 10', { permanent: true });
  const url = gotifyRequestUrl(target.gotifyUrl, target.gotifyToken);
  const body = JSON.stringify({ title: message.title, message: message.content, priority });
  await sendToReceiver({ field: 'gotifyUrl', url, method: 'POST', headers: { 'content-type': 'application/json' }, body }, opts);
}
