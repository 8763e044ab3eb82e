// Checks for saving a user's notification settings (PUT /api/me/notifications): each problem names
// its field, so the route can answer a 400 before anything is stored.
import { isEmailAddress } from './email.ts';
import { NotifyError } from './errors.ts';
import { barkRequestUrl } from './bark.ts';
import { gotifyRequestUrl } from './gotify.ts';
import type { NotifyTarget } from './types.ts';
import { parseReceiverUrl, resolveReceiver, type Resolver } from './url-guard.ts';

export interface TargetProblem {
  field: string;
  message: string;
}

const MAX_URL = 2048;
const MAX_SECRET = 256;

function fail(field: string, err: unknown): TargetProblem {
  return { field, message: err instanceof NotifyError ? err.message : `${field} is not valid` };
}

/** The URL a target sends to (placeholders filled with sample text), for the checks below. */
function receiverUrl(target: NotifyTarget): { field: string; url: URL } | null {
  switch (target.method) {
    case 'webhook':
      return { field: 'webhookUrl', url: parseReceiverUrl('webhookUrl', target.webhookUrl) };
    case 'bark':
      return { field: 'barkUrl', url: barkRequestUrl(target.barkUrl, 'title', 'body') };
    case 'gotify':
      return { field: 'gotifyUrl', url: gotifyRequestUrl(target.gotifyUrl, 'token') };
    default:
      return null;
  }
}

/** Syntax only (no DNS): null when the target is well formed. */
export function checkTarget(target: NotifyTarget): TargetProblem | null {
  switch (target.method) {
    case 'email':
      return isEmailAddress(target.email ?? '') ? null : { field: 'email', message: 'email must be a valid address' };
    case 'webhook':
      if (target.webhookSecret != null && target.webhookSecret.length > MAX_SECRET) return { field: 'webhookSecret', message: `webhookSecret is at most ${MAX_SECRET} characters` };
      break;
    case 'gotify':
      if (!target.gotifyToken || target.gotifyToken.length > MAX_SECRET) return { field: 'gotifyToken', message: 'gotifyToken is required (at most 256 characters)' };
      if (target.gotifyPriority != null && (!Number.isInteger(target.gotifyPriority) || target.gotifyPriority < 0 || target.gotifyPriority > 10)) {
        return { field: 'gotifyPriority', message: 'gotifyPriority must be an integer from 0 to 10' };
      }
      break;
    case 'bark':
      break;
    default:
      return { field: 'method', message: 'method must be one of email, webhook, bark, gotify' };
  }
  const raw = target.method === 'webhook' ? target.webhookUrl : target.method === 'bark' ? target.barkUrl : target.gotifyUrl;
  const field = `${target.method}Url`;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_URL) return { field, message: `${field} is required (at most ${MAX_URL} characters)` };
  try {
    receiverUrl(target);
    return null;
  } catch (err) {
    return fail(field, err);
  }
}

/** Syntax, then DNS: refuses a URL whose host resolves to a private address unless allowPrivate. */
export async function checkTargetReachable(target: NotifyTarget, allowPrivate: boolean, resolve?: Resolver): Promise<TargetProblem | null> {
  const problem = checkTarget(target);
  if (problem) return problem;
  const receiver = receiverUrl(target);
  if (!receiver) return null;
  try {
    await resolveReceiver(receiver.field, receiver.url, allowPrivate, resolve);
    return null;
  } catch (err) {
    return fail(receiver.field, err);
  }
}
