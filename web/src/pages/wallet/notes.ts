// History notes in the reader's language: the server writes its notes in English, but each credit's
// reference says what it was, so the known kinds are told from that. Notes carrying someone's own
// words (an admin's reason, a code batch's name) are shown as written.
import type { Translate } from '../../i18n/index.tsx';
import { PROVIDER_NAME, type MethodId } from './methods.ts';

export function historyNote(t: Translate, reference: string, note: string | null): string | null {
  let m: RegExpExecArray | null;
  if ((m = /^topup:([^:]+):bonus$/.exec(reference))) return t('wallet.note.bonus', { orderNo: m[1]! });
  if ((m = /^topup:([^:]+)$/.exec(reference))) {
    const via = note ? /via (\w+)$/.exec(note)?.[1] : undefined;
    const method = via && via in PROVIDER_NAME ? t(PROVIDER_NAME[via as MethodId]) : via;
    return method ? t('wallet.note.topupVia', { orderNo: m[1]!, method }) : t('wallet.note.topup', { orderNo: m[1]! });
  }
  if ((m = /^referral:(\d+)$/.exec(reference))) return t('wallet.note.referral', { id: m[1]! });
  if ((m = /^rebate:(.+)$/.exec(reference))) return t('wallet.note.rebate', { orderNo: m[1]! });
  if (/^trial:\d+$/.test(reference)) return t('kind.trial');
  return note;
}
