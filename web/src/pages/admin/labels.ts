import type { Schemas } from '../../api/client.ts';
import type { MessageKey } from '../../i18n/en.ts';

/** A payment method by the name users know ("Alipay", "Lantu Pay", …). */
export const methodLabel = (t: (k: MessageKey) => string, m: Schemas['TopupOrder']['method']) => t(`p.method.${m}` as MessageKey);
