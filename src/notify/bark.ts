// Bark (iOS push): a GET to the user's Bark URL, e.g. https://api.day.app/<device key>. Title and body
// go in as path segments (<url>/<title>/<body>, Bark's documented form), or replace the placeholders
// {{title}} and {{content}} when the URL has them; the URL's own query (group, sound, …) is kept.
import { sendToReceiver, type ReceiverOptions } from './http-send.ts';
import type { NotifyMessage } from './types.ts';
import { parseReceiverUrl } from './url-guard.ts';

export function barkRequestUrl(barkUrl: string, title: string, content: string): URL {
  if (barkUrl.includes('{{title}}') || barkUrl.includes('{{content}}')) {
    return parseReceiverUrl('barkUrl', barkUrl.replaceAll('{{title}}', encodeURIComponent(title)).replaceAll('{{content}}', encodeURIComponent(content)));
  }
  const url = parseReceiverUrl('barkUrl', barkUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(title)}/${encodeURIComponent(content)}`;
  return url;
}

export async function sendBark(target: { barkUrl: string }, message: NotifyMessage, opts: ReceiverOptions): Promise<void> {
  const url = barkRequestUrl(target.barkUrl, message.title, message.content);
  await sendToReceiver({ field: 'barkUrl', url, method: 'GET' }, opts);
}
