// Webhook: POST JSON {type, title, content, values, timestamp}; with a secret, X-Webhook-Signature is
// the hex HMAC-SHA256 of the exact body bytes sent.
import { createHmac } from 'node:crypto';
import { sendToReceiver, type ReceiverOptions } from './http-send.ts';
import type { NotifyMessage } from './types.ts';
import { parseReceiverUrl } from './url-guard.ts';

export interface WebhookTarget {
  webhookUrl: string;
  webhookSecret?: string | null;
}

export function webhookSignature(secret: string, rawBody: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

export async function sendWebhook(target: WebhookTarget, message: NotifyMessage, opts: ReceiverOptions & { now?: () => number }): Promise<void> {
  const url = parseReceiverUrl('webhookUrl', target.webhookUrl);
  const timestamp = Math.floor((opts.now ?? Date.now)() / 1000); // unix seconds
  const body = JSON.stringify({ type: message.type, title: message.title, content: message.content, values: message.values, timestamp });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.webhookSecret) headers['x-webhook-signature'] = webhookSignature(target.webhookSecret, body);
  await sendToReceiver({ field: 'webhookUrl', url, method: 'POST', headers, body }, opts);
}
